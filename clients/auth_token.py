#!/usr/bin/env python3
"""Call OTP.asmx (hardware and event tokens) on gspws with zeep, as an agency system would.

    python clients/auth_token.py --url http://127.0.0.1:8000/gsp2ws/OTP.asmx \
        --service-id APP0000001 --serial FT00012345 --otp 123456 [--soap12]
    python clients/auth_token.py ... --account demo --otp 4711123456      (Auth: [PIN +] code)
    python clients/auth_token.py ... --serial FT00012345 --sync 123456 654321   (SyncToken)
    python clients/auth_token.py ... --account demo --sync 123456 654321        (Sync)

Builds the client from the served WSDL, sets the ServiceHeader, prints Code and Message.
Exit status: 0 when Code is 0, 3 when it is 13 (the token needs sync: ask the person for two
consecutive codes and call again with --sync), 1 for any other return code, 2 when the call
itself failed.
"""

import argparse
import sys

try:
    import zeep
    from requests.exceptions import RequestException
    from zeep.exceptions import Error as ZeepError
except ModuleNotFoundError as missing:
    sys.exit(f"{missing}: install gspws[clients] (pip install 'gspws[clients]')")

NEEDS_SYNC = 13


def call(args: argparse.Namespace):
    client = zeep.Client(f"{args.url}?WSDL")
    service = client.bind("OTP", "OTPSoap12" if args.soap12 else "OTPSoap")
    header = {"ServiceHeader": {"ServiceID": args.service_id}}
    if args.sync:
        first, second = args.sync
        if args.serial:
            return service.SyncToken(
                tokenSN=args.serial, otp1=first, otp2=second, _soapheaders=header
            )
        return service.Sync(account=args.account, otp1=first, otp2=second, _soapheaders=header)
    if args.serial:
        return service.AuthToken(tokenSN=args.serial, otp=args.otp, _soapheaders=header)
    return service.Auth(account=args.account, password=args.otp, _soapheaders=header)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="endpoint, e.g. http://host/gsp2ws/OTP.asmx")
    parser.add_argument(
        "--service-id", required=True, help="your agency's ServiceID (APP + 7 digits)"
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--serial", help="the token's serial number (AuthToken, SyncToken)")
    who.add_argument("--account", help="the user's account (Auth, Sync)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--otp", help="the code (with --account: the PIN, if any, then the code)")
    what.add_argument("--sync", nargs=2, metavar="OTP", help="two consecutive codes")
    parser.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    args = parser.parse_args(argv)
    try:
        result = call(args)
    except (ZeepError, RequestException) as exc:
        print(f"call failed: {exc}", file=sys.stderr)
        return 2
    print(f"Code: {result.Code}")
    print(f"Message: {result.Message}")
    if result.Code == NEEDS_SYNC:
        return 3
    return 0 if result.Code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
