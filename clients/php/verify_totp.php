<?php
// Call VerifyTOTPCode on gspws (or the GSP service) with PHP's SoapClient, as an agency system would.
//
//   php clients/php/verify_totp.php URL SERVICE_ID ACCOUNT CODE [--soap12]
//   e.g. php clients/php/verify_totp.php http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456
//
// Builds the client from the served WSDL, sets the ServiceHeader, prints Code and Message.
// Exit status: 0 when Code is 0, 1 for any other return code, 2 when the call itself failed.
// Needs the soap extension (Debian: apt-get install php-cli php-soap). Written for PHP 5.4 and later.

const GSP_NAMESPACE = 'http://cp.gov.tw/gsp2';

$soap12 = in_array('--soap12', $argv, true);
$args = array_values(array_diff(array_slice($argv, 1), array('--soap12')));
if (count($args) !== 4) {
    fwrite(STDERR, "usage: php verify_totp.php URL SERVICE_ID ACCOUNT CODE [--soap12]\n");
    exit(2);
}
list($url, $serviceId, $account, $code) = $args;

try {
    $client = new SoapClient($url . '?WSDL', array(
        'soap_version' => $soap12 ? SOAP_1_2 : SOAP_1_1,
        'cache_wsdl' => WSDL_CACHE_NONE,   // keep WSDL_CACHE_DISK in production
        'exceptions' => true,
    ));
    // Every call carries the agency's ServiceID in the ServiceHeader SOAP header.
    $client->__setSoapHeaders(new SoapHeader(GSP_NAMESPACE, 'ServiceHeader',
                                             array('ServiceID' => $serviceId)));
    $response = $client->VerifyTOTPCode(array('account' => $account, 'TOTPCode' => $code));
} catch (SoapFault $fault) {
    fwrite(STDERR, 'call failed: ' . $fault->getMessage() . "\n");
    exit(2);
}

$result = $response->VerifyTOTPCodeResult;
echo 'Code: ' . $result->Code . "\n";
echo 'Message: ' . $result->Message . "\n";
exit((int) $result->Code === 0 ? 0 : 1);
