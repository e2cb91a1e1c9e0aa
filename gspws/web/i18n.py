"""The binding page's words, in Traditional Chinese (the default, worded as the GSP and NSTC pages
of seeds 000 and 001) and English. One table, so a missing translation fails a test, not a page."""

from gspws.web.pages import DEFAULT, LANGUAGES, translations

__all__ = ["BINDING_WORDS", "DEFAULT", "LANGUAGES", "TEXT"]

_TEXT = {
    "title": ("管理您的軟體式動態密碼設定", "Manage your software one-time password"),
    "software_otp": ("軟體式動態密碼", "Software one-time password"),
    "colon": ("：", ": "),
    "enabled": ("已啟用", "Enabled"),
    "not_enabled": ("未啟用", "Not enabled"),
    "enable": ("啟用", "Enable"),
    "add_device": ("新增裝置", "Add a device"),
    "disable": ("停用", "Disable"),
    "account": ("帳號", "Account"),
    "devices": ("已綁定的裝置", "Bound devices"),
    "device_name": ("裝置名稱", "Device name"),
    "phone": ("手機號碼", "Mobile number"),
    "phone_format": ("格式：(09xxxxxxxx)或(8869xxxxxxxx)", "Format: 09xxxxxxxx or 8869xxxxxxxx"),
    "period": ("驗證碼更新間隔", "A new code every"),
    "seconds": ("秒", "seconds"),
    "locked": ("已鎖定", "Locked"),
    "unnamed": ("未命名的裝置", "Unnamed device"),
    "hardware_token": ("硬體令牌", "Hardware token"),
    "disable_code": ("此裝置目前的六碼驗證碼", "The current 6-digit code of this device"),
    "step_1": ("1. 設定驗證器(Authenticator)", "1. Set up an authenticator"),
    "step_1_1": (
        "1-1. 使用手機至Google Play 商店 或 Apple App Store 安裝驗證器(Authenticator)應用程式，如：",
        "1-1. Install an authenticator app on your phone from Google Play or the Apple "
        "App Store, such as:",
    ),
    "any_app": (
        "… 或任何符合TOTP規範的驗證器(Authenticator)",
        "… or any authenticator that follows the TOTP standard (RFC 6238)",
    ),
    "step_1_2": (
        "1-2. 使用手機掃描本頁面上的二維條碼(QR Code)，以進行驗證器(Authenticator)設定",
        "1-2. Scan the QR code on this page with the app",
    ),
    "manual_key": (
        "無法掃描時，請在驗證器中手動輸入以下金鑰：",
        "If you cannot scan it, type this key into the app:",
    ),
    "step_2": (
        "2. 輸入驗證器(Authenticator)產生的六碼驗證碼",
        "2. Enter the 6-digit code the authenticator shows",
    ),
    "step_2_help": (
        "透過輸入您手機上驗證器(Authenticator)產生的六碼驗證碼，以確保您已正確的設定本系統提供的軟體式動態密碼功能",
        "Entering the code your phone shows proves the app is set up correctly.",
    ),
    "enter_code": ("輸入驗證碼", "Enter the code"),
    "verify": ("驗證", "Verify"),
    "cancel": ("取消", "Cancel"),
    "expires": ("請於 {n} 分鐘內完成設定。", "Finish within {n} minutes."),
    "sign_out": ("登出", "Sign out"),
    "continue": ("繼續", "Continue"),
    "link_intro": (
        "此連結可讓您設定帳號的軟體式動態密碼，僅能使用一次。請按【繼續】開始設定。",
        "This link lets you set up your account's one-time password. It works once. "
        "Press Continue to start.",
    ),
    "get_new_link": (
        "請向您的服務機關或系統管理者索取新的綁定連結。連結僅能使用一次，且須於有效時間內使用。",
        "Ask your agency or administrator for a new binding link. A link works once, "
        "and only for a limited time.",
    ),
    "sign_in_needed": ("請以綁定連結開啟本頁面", "Open this page through a binding link"),
    "sign_in_help": (
        "本服務不保管您的密碼。請向您的服務機關索取綁定連結，或請系統管理者寄送邀請信；連結過期時可再次申請。",
        "This service keeps no passwords. Ask your agency for a binding link, or ask "
        "the administrator to e-mail you an invitation; you can ask again when a "
        "link has expired.",
    ),
    "form_expired": (
        "表單已失效，請重新開啟本頁面後再試一次。",
        "This form has expired. Open the page again and retry.",
    ),
    "not_found": ("找不到此頁面", "Page not found"),
    "internal_error": ("系統內部錯誤，請稍後再試。", "Internal error. Please try again later."),
    "notice_enabled": (
        "軟體式動態密碼設定完成，狀態為已啟用。",
        "Done: your one-time password is enabled.",
    ),
    "notice_enabled_clock_off": (
        "軟體式動態密碼設定完成，狀態為已啟用。但您手機的時間與標準時間相差超過 3 分鐘："
        "請至手機的「設定」開啟「自動設定日期與時間」，以免日後驗證碼無法通過。",
        "Done: your one-time password is enabled. But your phone's clock is more than 3 "
        "minutes off: turn on automatic date and time in the phone's settings, or its codes "
        "may stop being accepted.",
    ),
    "problem_clock_off": (
        "您手機的時間與標準時間相差超過 3 分鐘，請開啟「自動設定日期與時間」。",
        "Your phone's clock is more than 3 minutes off: turn on automatic date and time.",
    ),
    "notice_disabled": ("已移除此裝置的綁定。", "The device was unbound."),
    "notice_cancelled": ("已取消設定。", "Set-up cancelled."),
    "notice_signed_out": ("您已登出。", "You have signed out."),
    "problem_wrong_code": (
        "驗證碼錯誤，請確認驗證器上的六碼數字後再試一次。",
        "That code is not right. Check the 6 digits in the app and try again.",
    ),
    "problem_no_pending": (
        "設定已超過有效時間，請重新按【啟用】。",
        "The set-up has expired. Press Enable to start again.",
    ),
    "problem_not_bound": ("查無此裝置。", "No such device."),
    "problem_bad_name": (
        "裝置名稱過長或含有無法使用的字元。",
        "The device name is too long or has characters that cannot be used.",
    ),
    "problem_bad_phone": (
        "手機號碼格式錯誤，格式：(09xxxxxxxx)或(8869xxxxxxxx)",
        "The mobile number must be 09xxxxxxxx or 8869xxxxxxxx.",
    ),
    "problem_bad_period": (
        "驗證碼更新間隔須為 30 或 60 秒。",
        "The code must change every 30 or 60 seconds.",
    ),
    "problem_too_many_devices": (
        "已達可綁定的裝置數量上限。",
        "This account has as many devices as it may have.",
    ),
    "problem_unknown_account": ("查無使用者帳號", "No such account."),
    "destinations": ("接收驗證碼的手機與電子郵件", "Where one-time codes are sent"),
    "email": ("電子郵件", "E-mail"),
    "not_set": ("未設定", "Not set"),
    "verified": ("已驗證", "verified"),
    "not_verified": ("未驗證", "not verified"),
    "channel": ("驗證方式", "Send to"),
    "new_destination": ("新的手機號碼或電子郵件", "New mobile number or e-mail address"),
    "send_code": ("發送驗證碼", "Send code"),
    "check_code": ("檢核驗證碼", "Check code"),
    "notice_code_sent": (
        "驗證碼已發送，請於有效時間內輸入。",
        "A code was sent; enter it before it expires.",
    ),
    "notice_destination_verified": (
        "驗證完成，已更新接收驗證碼的設定。",
        "Verified: codes will be sent there.",
    ),
    "problem_bad_destination": (
        "手機號碼或電子郵件格式錯誤，手機格式：(09xxxxxxxx)或(8869xxxxxxxx)",
        "Not a mobile number (09xxxxxxxx or 8869xxxxxxxx) or an e-mail address.",
    ),
    "problem_too_soon": (
        "發送過於頻繁，請稍後再試。",
        "Codes were sent too often; try again later.",
    ),
    "problem_link_invalid": (
        "註冊已超過有效時間或此帳號已被註冊",
        "The registration has expired or this link has already been used",
    ),
}

#: ``TEXT[language][key]``; templates write ``t.key``.
TEXT = translations(_TEXT)
#: ``{key: (zh-TW, en)}``: for the operator console's table, which shares a few of these.
BINDING_WORDS = _TEXT
