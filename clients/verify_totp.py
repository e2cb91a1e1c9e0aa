#!/usr/bin/env python3
"""Call VerifyTOTPCode on gspws (or the GSP service) with zeep, as an agency system would.

    python clients/verify_totp.py --url http://127.0.0.1:8000/gsp2ws/TOTP.asmx \
        --service-id APP0000001 --account demo --code 123456 [--soap12]

Builds the client from the served WSDL, sets the ServiceHeader, prints Code and Message.
Exit status: 0 when Code is 0, 1 for any other return code, 2 when the call itself failed.
"""

import argparse
import sys

try:
    import zeep
    from requests.exceptions import RequestException
    from zeep.exceptions import Error as ZeepError
except ModuleNotFoundError as missing:
    sys.exit(f"{missing}: install gspws[clients] (pip install 'gspws[clients]')")


def verify(url: str, service_id: str, account: str, code: str, soap12: bool = False):
    client = zeep.Client(f"{url}?WSDL")
    service = client.bind("TOTP", "TOTPSoap12" if soap12 else "TOTPSoap")
    return service.VerifyTOTPCode(
        account=account, TOTPCode=code, _soapheaders={"ServiceHeader": {"ServiceID": service_id}}
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="endpoint, e.g. http://host/gsp2ws/TOTP.asmx")
    parser.add_argument(
        "--service-id", required=True, help="your agency's ServiceID (APP + 7 digits)"
    )
    parser.add_argument("--account", required=True, help="the user's account")
    parser.add_argument("--code", required=True, help="the code from the user's authenticator")
    parser.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    args = parser.parse_args(argv)
    try:
        result = verify(args.url, args.service_id, args.account, args.code, args.soap12)
    except (ZeepError, RequestException) as exc:
        print(f"call failed: {exc}", file=sys.stderr)
        return 2
    print(f"Code: {result.Code}")
    print(f"Message: {result.Message}")
    return 0 if result.Code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
