#!/usr/bin/env node
// Call VerifyTOTPCode on gspws (or the GSP service) with node-soap, as an agency system would.
//
//   npm install --prefix clients/node          (once: installs the `soap` package)
//   node clients/node/verify_totp.js URL SERVICE_ID ACCOUNT CODE [--soap12]
//   e.g. node clients/node/verify_totp.js http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456
//
// Builds the client from the served WSDL, sets the ServiceHeader, prints Code and Message.
// Exit status: 0 when Code is 0, 1 for any other return code, 2 when the call itself failed.
'use strict';

const soap = require('soap');

const GSP_NAMESPACE = 'http://cp.gov.tw/gsp2';

async function verify(url, serviceId, account, code, soap12) {
  const client = await soap.createClientAsync(`${url}?WSDL`, { forceSoap12Headers: soap12 });
  // Every call carries the agency's ServiceID in the ServiceHeader SOAP header.
  client.addSoapHeader({ ServiceHeader: { ServiceID: serviceId } }, '', 'tns', GSP_NAMESPACE);
  const port = client.TOTP[soap12 ? 'TOTPSoap12' : 'TOTPSoap'];
  const response = await new Promise((resolve, reject) => {
    port.VerifyTOTPCode({ account, TOTPCode: code },
      (error, result) => (error ? reject(error) : resolve(result)));
  });
  return response.VerifyTOTPCodeResult;
}

async function main(argv) {
  const soap12 = argv.includes('--soap12');
  const args = argv.filter((arg) => arg !== '--soap12');
  if (args.length !== 4) {
    console.error('usage: node verify_totp.js URL SERVICE_ID ACCOUNT CODE [--soap12]');
    return 2;
  }
  let result;
  try {
    result = await verify(...args, soap12);
  } catch (error) {
    console.error(`call failed: ${error.message}`);
    return 2;
  }
  console.log(`Code: ${result.Code}`);
  console.log(`Message: ${result.Message}`);
  return Number(result.Code) === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((status) => { process.exitCode = status; });
