#!/usr/bin/env python3
"""Call OTP.asmx's OCRA operations (RFC 6287 challenge-response) on gspws with zeep.

    python clients/ocra_challenge.py --url http://127.0.0.1:8000/gsp2ws/OTP.asmx \
        --service-id APP0000001 --serial OC00012345 [--soap12]           (GetChallenge)
    python clients/ocra_challenge.py ... --serial OC00012345 --amount 1200 --payee "ACME Ltd"
                                                                         (GetSignChallenge)
    python clients/ocra_challenge.py ... --serial OC00012345 \
        --challenge 12345678 --response 87654321                         (VerifyResponse)

Builds the client from the served WSDL, sets the ServiceHeader, prints Code and Message (for
GetChallenge and GetSignChallenge, the challenge to show the person, who types it into the
token; the token's response then goes to --challenge/--response). Exit status: 0 when Code is 0,
1 for any other return code, 2 when the call itself failed.
"""

import argparse
import sys

try:
    import zeep
    from requests.exceptions import RequestException
    from zeep.exceptions import Error as ZeepError
except ModuleNotFoundError as missing:
    sys.exit(f"{missing}: install gspws[clients] (pip install 'gspws[clients]')")


def call(args: argparse.Namespace):
    client = zeep.Client(f"{args.url}?WSDL")
    service = client.bind("OTP", "OTPSoap12" if args.soap12 else "OTPSoap")
    header = {"ServiceHeader": {"ServiceID": args.service_id}}
    if args.response is not None:
        return service.VerifyResponse(
            tokenSN=args.serial,
            challenge=args.challenge,
            response=args.response,
            _soapheaders=header,
        )
    if args.amount is not None:
        return service.GetSignChallenge(
            tokenSN=args.serial, amount=args.amount, payee=args.payee, _soapheaders=header
        )
    return service.GetChallenge(tokenSN=args.serial, _soapheaders=header)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="endpoint, e.g. http://host/gsp2ws/OTP.asmx")
    parser.add_argument(
        "--service-id", required=True, help="your agency's ServiceID (APP + 7 digits)"
    )
    parser.add_argument("--serial", required=True, help="the OCRA token's serial number")
    parser.add_argument("--amount", help="sign a transaction: its amount (GetSignChallenge)")
    parser.add_argument("--payee", help="sign a transaction: its payee (with --amount)")
    parser.add_argument("--challenge", help="the challenge the person answered (VerifyResponse)")
    parser.add_argument("--response", help="the token's response (with --challenge)")
    parser.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    args = parser.parse_args(argv)
    if (args.amount is None) != (args.payee is None):
        parser.error("--amount and --payee go together")
    if (args.challenge is None) != (args.response is None):
        parser.error("--challenge and --response go together")
    try:
        result = call(args)
    except (ZeepError, RequestException) as exc:
        print(f"call failed: {exc}", file=sys.stderr)
        return 2
    print(f"Code: {result.Code}")
    print(f"Message: {result.Message}")
    return 0 if result.Code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
