#!/usr/bin/env python3
"""Send a one-time code with MobileOTP.asmx (zeep), then optionally check one, as an agency would.

    python clients/send_otp.py --url http://127.0.0.1:8000/gsp2ws/MobileOTP.asmx \
        --service-id APP0000001 --account demo [--channel sms|email] [--soap12]
    python clients/send_otp.py ... --verify 123456

Without --verify: SendOTPCode (or SendOTPCodeTo with --channel); Message is the code sent (or the
masked destination when the server runs with GSPWS_OTP_MESSAGE=masked). With --verify CODE:
VerifyOTPCode. Prints Code and Message. Exit status: 0 when Code is 0, 1 for any other return
code, 2 when the call itself failed.
"""

import argparse
import sys

try:
    import zeep
    from requests.exceptions import RequestException
    from zeep.exceptions import Error as ZeepError
except ModuleNotFoundError as missing:
    sys.exit(f"{missing}: install gspws[clients] (pip install 'gspws[clients]')")


def mobile_otp(url: str, soap12: bool = False):
    client = zeep.Client(f"{url}?WSDL")
    return client.bind("MobileOTP", "MobileOTPSoap12" if soap12 else "MobileOTPSoap")


def call(service, service_id: str, account: str, channel: str | None, code: str | None):
    header = {"ServiceHeader": {"ServiceID": service_id}}
    if code is not None:
        return service.VerifyOTPCode(account=account, OTPCode=code, _soapheaders=header)
    if channel is not None:
        return service.SendOTPCodeTo(account=account, channel=channel, _soapheaders=header)
    return service.SendOTPCode(account=account, _soapheaders=header)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="endpoint, e.g. http://host/gsp2ws/MobileOTP.asmx"
    )
    parser.add_argument(
        "--service-id", required=True, help="your agency's ServiceID (APP + 7 digits)"
    )
    parser.add_argument("--account", required=True, help="the user's account")
    parser.add_argument("--channel", choices=("sms", "email"), help="send there (SendOTPCodeTo)")
    parser.add_argument("--verify", metavar="CODE", help="check CODE (VerifyOTPCode) instead")
    parser.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    args = parser.parse_args(argv)
    try:
        result = call(
            mobile_otp(args.url, args.soap12),
            args.service_id,
            args.account,
            args.channel,
            args.verify,
        )
    except (ZeepError, RequestException) as exc:
        print(f"call failed: {exc}", file=sys.stderr)
        return 2
    print(f"Code: {result.Code}")
    print(f"Message: {result.Message}")
    return 0 if result.Code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
