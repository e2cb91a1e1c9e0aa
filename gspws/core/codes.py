"""The GSP return-code table: the one place a code's message is spelled.

Messages are byte-for-byte those of the GSP TOTP service (seed 000); note the full-width colon
``：`` in the 81xx messages. Callers compare them as strings, so never reword them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ReturnCode:
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


OK = ReturnCode(0, "動態密碼驗證通過")
REJECTED = ReturnCode(9999, "動態密碼驗證不通過")
BAD_SERVICE_ID = ReturnCode(1, "ServiceID格式錯誤")
AUTH_OTHER = ReturnCode(8100, "認證錯誤：其它")
AUTH_UNKNOWN_SERVICE = ReturnCode(8101, "認證錯誤：查無認證資訊")
AUTH_INCOMPLETE = ReturnCode(8102, "認證錯誤：認證資訊不齊全")
AUTH_ADDRESS = ReturnCode(8104, "認證錯誤：存取位置未被授權")
AUTH_FUNCTION_NOT_GRANTED = ReturnCode(8108, "認證錯誤：功能未被授權")
AUTH_FUNCTION_DISABLED = ReturnCode(8109, "認證錯誤：功能停用")
INTERNAL_ERROR = ReturnCode(3000, "系統內部錯誤")
NO_ACTIVE_TOKEN = ReturnCode(3001, "查無使用者帳號或使用者未啟用動態密碼功能")

#: In the order of the GSP manual's table.
RETURN_CODES = (
    OK,
    REJECTED,
    BAD_SERVICE_ID,
    AUTH_OTHER,
    AUTH_UNKNOWN_SERVICE,
    AUTH_INCOMPLETE,
    AUTH_ADDRESS,
    AUTH_FUNCTION_NOT_GRANTED,
    AUTH_FUNCTION_DISABLED,
    INTERNAL_ERROR,
    NO_ACTIVE_TOKEN,
)

#: OTP.asmx only (the FTsafe-style operations, seed 003): the code matches only outside the
#: normal window but inside the sync window; the person must Sync. VerifyTOTPCode's contract has
#: no 13: it answers REJECTED there.
NEEDS_SYNC = ReturnCode(13, "需要同步")
#: OTP.asmx GetAssertion only: the QR-scan sign-in is neither approved nor denied yet; ask again.
ASSERTION_PENDING = ReturnCode(12, "等待使用者確認登入")
#: GetAssertion's 9999s, each saying why the sign-in will never be approved (gspws.core.assertion).
ASSERTION_UNKNOWN = ReturnCode(9999, "查無此登入請求")
ASSERTION_USED = ReturnCode(9999, "此登入請求已使用")
ASSERTION_DENIED = ReturnCode(9999, "使用者已拒絕登入")
ASSERTION_EXPIRED = ReturnCode(9999, "登入請求已超過有效時間")

BY_CODE = {rc.code: rc for rc in RETURN_CODES + (NEEDS_SYNC, ASSERTION_PENDING)}
