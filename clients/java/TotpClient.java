// Call gspws (or the GSP service) through an Axis 1.4 stub (WSDL2Java), as an agency system would.
//
//   clients/java/build.sh URL OUT_DIR              (once: WSDL2Java + javac)
//   java -cp "OUT_DIR:$(clients/java/build.sh --classpath)" TotpClient URL SERVICE_ID ACCOUNT CODE
//   e.g. ... TotpClient http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456
//
// Axis 1.4 speaks SOAP 1.1 only: WSDL2Java skips the WSDL's SOAP 1.2 binding.
// Verifies CODE, prints Code and Message. Exit status: 0 when Code is 0, 1 for any other return
// code, 2 when the call itself failed.
//
//   java ... TotpClient URL SERVICE_ID --calls
//
// calls any operation: one call a line on stdin, tab-separated ("GetTOTPStatus<TAB>account",
// "BeginTOTPBinding<TAB>account<TAB>deviceName", ...; "ServiceID<TAB>APP0000002" changes the
// header's ServiceID, a bare "ServiceID" leaves it out, "NoServiceHeader" the whole header),
// one answer a line on stdout, tab-separated
// ("Code=0<TAB>Message=...<TAB>Result...=..."). The test suite drives every operation this way.

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.apache.axis.client.Stub;
import org.apache.axis.message.SOAPHeaderElement;

import tw.gov.cp.gsp2.CP2Response;
import tw.gov.cp.gsp2.CP2ResponseOfString;
import tw.gov.cp.gsp2.CP2ResponseOfTOTPBinding;
import tw.gov.cp.gsp2.CP2ResponseOfTOTPStatus;
import tw.gov.cp.gsp2.TOTPBinding;
import tw.gov.cp.gsp2.TOTPDevice;
import tw.gov.cp.gsp2.TOTPLocator;
import tw.gov.cp.gsp2.TOTPSoap_PortType;

public class TotpClient {
    static final String GSP_NAMESPACE = "http://cp.gov.tw/gsp2";

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        boolean calls = args.length == 3 && args[2].equals("--calls");
        if (args.length != 4 && !calls) {
            System.err.println("usage: TotpClient URL SERVICE_ID ACCOUNT CODE\n"
                               + "       TotpClient URL SERVICE_ID --calls");
            System.exit(2);
        }
        TOTPSoap_PortType port = new TOTPLocator().getTOTPSoap(new URL(args[0]));
        // Every call carries the agency's ServiceID in the ServiceHeader SOAP header.
        setServiceHeader((Stub) port, true, args[1]);
        if (calls) {
            runCalls(port, out);
            return;
        }
        CP2Response result;
        try {
            result = port.verifyTOTPCode(args[2], args[3]);
        } catch (java.rmi.RemoteException error) {  // AxisFault: transport errors and SOAP faults
            System.err.println("call failed: " + error.getMessage());
            System.exit(2);
            return;
        }
        out.println("Code: " + result.getCode());
        out.println("Message: " + result.getMessage());
        System.exit(result.getCode() == 0 ? 0 : 1);
    }

    /** The ServiceHeader sent with every later call of this stub (serviceId null: without one). */
    static void setServiceHeader(Stub stub, boolean send, String serviceId) throws Exception {
        stub.clearHeaders();
        if (send) {
            SOAPHeaderElement header = new SOAPHeaderElement(GSP_NAMESPACE, "ServiceHeader");
            if (serviceId != null) {
                header.addChildElement("ServiceID").addTextNode(serviceId);
            }
            stub.setHeader(header);
        }
    }

    static void runCalls(TOTPSoap_PortType port, PrintStream out) throws Exception {
        BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = input.readLine()) != null) {
            String[] call = line.split("\t", -1);
            String answer;
            try {
                answer = call(port, call);
            } catch (Exception error) {
                answer = "Failed=" + error.getClass().getSimpleName() + ": "
                         + String.valueOf(error.getMessage()).replaceAll("[\t\r\n]", " ");
            }
            out.println(answer);
        }
    }

    static String call(TOTPSoap_PortType port, String[] call) throws Exception {
        switch (call[0]) {
            case "ServiceID":
                setServiceHeader((Stub) port, true, call.length > 1 ? call[1] : null);
                return "ServiceID=" + (call.length > 1 ? call[1] : "");
            case "NoServiceHeader":
                setServiceHeader((Stub) port, false, null);
                return "NoServiceHeader";
            case "VerifyTOTPCode":
                return answer(port.verifyTOTPCode(call[1], call[2]));
            case "ConfirmTOTPBinding":
                return answer(port.confirmTOTPBinding(call[1], call[2]));
            case "DisableTOTP":
                return answer(port.disableTOTP(call[1], call[2]));
            case "GetTOTPStatus": {
                CP2ResponseOfTOTPStatus status = port.getTOTPStatus(call[1]);
                StringBuilder text = new StringBuilder(answer(status.getCode(), status.getMessage()));
                if (status.getResult() != null) {
                    text.append("\tEnabled=").append(status.getResult().isEnabled());
                    TOTPDevice[] devices = status.getResult().getDevices();
                    for (TOTPDevice device : devices == null ? new TOTPDevice[0] : devices) {
                        text.append("\tDevice=").append(device.getSerial()).append('|')
                            .append(orEmpty(device.getDeviceName())).append('|')
                            .append(orEmpty(device.getPhone())).append('|').append(device.getPeriod())
                            .append('|').append(device.isLocked());
                    }
                }
                return text.toString();
            }
            case "BeginTOTPBinding": {
                CP2ResponseOfTOTPBinding began = port.beginTOTPBinding(call[1], call[2]);
                TOTPBinding binding = began.getResult();
                return answer(began.getCode(), began.getMessage()) + (binding == null ? "" :
                    "\tOtpauthUri=" + binding.getOtpauthUri()
                    + "\tQrPng=" + Base64.getEncoder().encodeToString(binding.getQrPng())
                    + "\tSerial=" + binding.getSerial());
            }
            case "CreateBindingLink": {
                CP2ResponseOfString link = port.createBindingLink(call[1]);
                return answer(link.getCode(), link.getMessage())
                       + (link.getResult() == null ? "" : "\tResult=" + link.getResult());
            }
            default:
                throw new IllegalArgumentException("unknown operation " + call[0]);
        }
    }

    static String answer(CP2Response result) {
        return answer(result.getCode(), result.getMessage());
    }

    static String answer(int code, String message) {
        return "Code=" + code + "\tMessage=" + message;
    }

    static String orEmpty(String text) {
        return text == null ? "" : text;
    }
}
