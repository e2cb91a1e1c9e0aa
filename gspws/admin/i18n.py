"""The operator console's words, in Traditional Chinese (the default) and English: one table, so
a missing translation fails a test, not a page (gspws.web.pages.translations)."""

from gspws.web.pages import translations

_TEXT = {
    "title": ("動態密碼管理中心", "gspws operator console"),
    "colon": ("：", ": "),
    "nav_dashboard": ("總覽", "Dashboard"),
    "nav_services": ("介接服務", "Services"),
    "nav_accounts": ("帳號與載具", "Accounts and tokens"),
    "nav_audit": ("稽核紀錄", "Audit"),
    "nav_keys": ("加密金鑰", "Keys"),
    "dashboard_soon": ("圖表建置中。", "Charts are on their way."),
    "role_operator": ("管理者", "operator"),
    "role_auditor": ("稽核者", "auditor"),
    "sign_in": ("登入", "Sign in"),
    "sign_out": ("登出", "Sign out"),
    "admin_name": ("管理員名稱", "Administrator"),
    "password": ("密碼", "Password"),
    "password_again": ("再次輸入密碼", "Password again"),
    "totp_code": ("驗證器的六碼驗證碼", "The 6-digit code of your authenticator"),
    "enrol_title": ("管理員帳號啟用", "Set up your administrator account"),
    "choose_password": ("設定密碼", "Choose a password"),
    "password_policy": (
        "密碼長度須為 12 至 128 個字元（可含空格），至少含 5 種不同字元，且不得包含管理員名稱。",
        "12 to 128 characters (spaces allowed), at least 5 different ones, and not containing "
        "your administrator name.",
    ),
    "scan_qr": (
        "以驗證器(Authenticator)掃描二維條碼",
        "Scan the QR code with your authenticator app",
    ),
    "manual_key": ("無法掃描時，請手動輸入金鑰：", "If you cannot scan it, type this key:"),
    "confirm_code": ("輸入驗證器顯示的驗證碼", "Enter the code the authenticator shows"),
    "enrol": ("啟用", "Set up"),
    "ask_for_reset": (
        "請洽其他管理者執行 gspws admin reset 以取得新的連結。",
        "Ask another administrator to run gspws admin reset for a new link.",
    ),
    "form_expired": (
        "表單已失效，請重新開啟本頁面後再試一次。",
        "This form has expired. Open the page again and retry.",
    ),
    "operators_only": (
        "稽核者僅能檢視，無法變更設定。",
        "Auditors can look but not change anything.",
    ),
    "not_found": ("找不到此頁面", "Page not found"),
    "internal_error": ("系統內部錯誤，請稍後再試。", "Internal error. Please try again later."),
    "notice_signed_out": ("您已登出。", "You have signed out."),
    "notice_enrolled": ("帳號已啟用，請登入。", "Your account is set up. Sign in."),
    "notice_done": ("已完成。", "Done."),
    "problem_sign_in": (
        "名稱、密碼或驗證碼錯誤，或帳號已鎖定或停用。",
        "Wrong name, password or code, or the account is locked or disabled.",
    ),
    "problem_link_invalid": (
        "連結已失效或已使用。",
        "This link has expired or has been used.",
    ),
    "problem_password_mismatch": ("兩次輸入的密碼不同。", "The two passwords differ."),
    "problem_password_length": (
        "密碼長度須為 12 至 128 個字元。",
        "The password must have 12 to 128 characters.",
    ),
    "problem_password_pattern": (
        "密碼至少須含 5 種不同字元。",
        "The password needs at least 5 different characters.",
    ),
    "problem_password_contains_name": (
        "密碼不得包含管理員名稱。",
        "The password must not contain your administrator name.",
    ),
    "problem_wrong_code": (
        "驗證碼錯誤，請確認驗證器上的六碼數字後再試一次。",
        "That code is not right. Check the 6 digits in the app and try again.",
    ),
}

TEXT = translations(_TEXT)
