"""The operator console's words, in Traditional Chinese (the default) and English: one table, so
a missing translation fails a test, not a page (gspws.web.pages.translations)."""

from gspws.web.i18n import BINDING_WORDS
from gspws.web.pages import translations

#: Words the binding page has already, said the same way here.
_SHARED = ("colon", "form_expired", "not_found", "internal_error", "problem_wrong_code")

_TEXT = {
    **{key: BINDING_WORDS[key] for key in _SHARED},
    "title": ("動態密碼管理中心", "gspws operator console"),
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
    "operators_only": (
        "稽核者僅能檢視，無法變更設定。",
        "Auditors can look but not change anything.",
    ),
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
    "search": ("搜尋", "Search"),
    "service_name": ("名稱", "Name"),
    "state": ("狀態", "State"),
    "networks": ("允許的來源網段", "Allowed networks"),
    "networks_hint": (
        "IPv4 或 IPv6 CIDR，每行一個",
        "IPv4 or IPv6 CIDRs, one a line",
    ),
    "grants": ("授權功能", "Granted functions"),
    "function": ("功能", "Function"),
    "enabled": ("啟用", "enabled"),
    "disabled": ("停用", "disabled"),
    "active": ("使用中", "active"),
    "suspended": ("暫停", "suspended"),
    "enable": ("啟用", "Enable"),
    "disable": ("停用", "Disable"),
    "suspend": ("暫停", "Suspend"),
    "resume": ("恢復", "Resume"),
    "revoke": ("撤銷", "Revoke"),
    "grant": ("授權", "Grant"),
    "add": ("新增", "Add"),
    "save": ("儲存", "Save"),
    "add_service": ("新增介接服務", "Add a service"),
    "none_found": ("查無資料", "Nothing found"),
    "search_by": ("搜尋欄位", "Search by"),
    "by_account": ("帳號", "account"),
    "by_mobile": ("手機號碼", "mobile number"),
    "by_serial": ("載具序號", "token serial"),
    "by_pool": ("未指派載具序號", "unassigned token serial"),
    "starts_with": ("開頭為", "starting with"),
    "account": ("帳號", "Account"),
    "mobile": ("手機號碼", "Mobile"),
    "serial": ("序號", "Serial"),
    "type": ("類型", "Type"),
    "drift": ("時間偏移（步）", "Drift (steps)"),
    "failures": ("錯誤次數", "Failures"),
    "last_used": ("最後使用", "Last use"),
    "locked_at": ("鎖定時間", "Locked at"),
    "device_name": ("裝置名稱", "Device"),
    "no_tokens": ("無載具", "No tokens"),
    "pool": ("（未指派）", "(unassigned)"),
    "hardware": ("匯入", "imported"),
    "next_page": ("下一頁 »", "Next page »"),
    "token": ("載具", "Token"),
    "status_pending": ("待啟用", "pending"),
    "status_active": ("使用中", "active"),
    "status_disabled": ("停用", "disabled"),
    "status_locked": ("鎖定", "locked"),
    "status_lost": ("掛失", "lost"),
    "unlock": ("解除鎖定", "Unlock"),
    "report_lost": ("掛失", "Report lost"),
    "report_found": ("解除掛失", "Report found"),
    "unassign": ("收回至庫存", "Back to the pool"),
    "clear_pin": ("清除 PIN 碼", "Clear the PIN"),
    "pin_set": ("已設定", "set"),
    "pin_none": ("未設定", "none"),
    "assign": ("指派", "Assign"),
    "assign_to": ("指派給帳號", "Assign to account"),
    "make_link": ("產生綁定連結", "Make a binding link"),
    "send_invitation": ("寄送邀請信", "E-mail an invitation"),
    "notice_invited": (
        "邀請信已寄出（連結有效期間內僅能使用一次，先前的連結已失效）。",
        "Invitation sent (its link works once; earlier links stopped working).",
    ),
    "binding_link": (
        "綁定連結（僅能使用一次，請只交給帳號本人）",
        "Binding link (works once; give it only to the account's owner)",
    ),
    "since": ("起", "From"),
    "until": ("迄", "Until"),
    "operation": ("作業", "Operation"),
    "code": ("回傳碼", "Code"),
    "filter": ("篩選", "Filter"),
    "export_csv": ("匯出 CSV", "Export CSV"),
    "time": ("時間", "Time"),
    "client": ("來源位址", "Client"),
    "older": ("較舊的紀錄 »", "Older »"),
    "time_hint": (
        "時間可填 ISO-8601（如 2026-05-01 或 2026-05-01T08:00，未註明時差者以 {zone} 時間計；"
        "或 2026-05-01T08:00Z）或距今時間（30m、24h、7d）。",
        "Times: ISO-8601 (2026-05-01 or 2026-05-01T08:00, read in {zone} unless an offset is "
        "given, e.g. 2026-05-01T08:00Z) or an age (30m, 24h, 7d).",
    ),
    "keys_from": ("金鑰來源", "Keys from"),
    "fingerprint": ("指紋", "Fingerprint"),
    "key_use": ("用途", "Use"),
    "secrets": ("保護的秘密數", "Secrets it protects"),
    "encrypts": ("加密與解密", "encrypts and decrypts"),
    "decrypts_only": ("僅解密（輪替中）", "decrypts only (rotation)"),
    "count_secrets": (
        "清點（解密每個載具金鑰，需時較久）",
        "Count (opens every token secret: slow)",
    ),
    "census": (
        "加密的秘密（載具金鑰、待寄送的訊息、管理員驗證器）共 {total} 個：{first} 個在第一把金鑰下，"
        "{older} 個在較舊金鑰下，{unreadable} 個無法解密。",
        "{total} secrets (token secrets, messages to deliver, administrators' authenticator "
        "keys): {first} under the first key, {older} under older keys, {unreadable} unreadable.",
    ),
    "unreadable": ("無法解密", "Unreadable"),
    "keys_hint": (
        "本頁只顯示指紋（SHA-256 前 8 碼），從不顯示金鑰。輪替：gspws keys rotate。",
        "Only fingerprints (the first 8 hex digits of the SHA-256) are shown, never a key. "
        "Rotation: gspws keys rotate.",
    ),
    "nav_import": ("匯入載具", "Import tokens"),
    "import_title": ("匯入載具檔（PSKC 或 CSV）", "Import a token file (PSKC or CSV)"),
    "token_file": ("載具檔", "Token file"),
    "pskc_key": (
        "PSKC 預先共享金鑰（16 進位，加密檔才需要）",
        "PSKC pre-shared key (hex; encrypted files only)",
    ),
    "pskc_password": (
        "PSKC 密碼（以密碼加密的檔案才需要）",
        "PSKC password (password-encrypted files only)",
    ),
    "owners": ("指派", "Owners"),
    "target_file": ("依檔案中的使用者", "as the file says"),
    "target_pool": ("全部放入庫存（未指派）", "all to the pool (unassigned)"),
    "target_assign": ("全部指派給帳號：", "all to the account:"),
    "dry_run": ("僅檢查，不儲存", "Check only; store nothing"),
    "import_button": ("匯入", "Import"),
    "imported": ("已匯入", "Imported"),
    "would_import": ("將匯入", "Would import"),
    "already_present": ("已存在（略過）", "Already present (left alone)"),
    "refused": ("拒絕", "Refused"),
    "refused_whole": (
        "檔案中任一筆有誤時，整個檔案都不匯入；請修正上述項目後再試。",
        "A file with any bad entry imports nothing: fix the entry named above and retry.",
    ),
    "import_hint": (
        "格式與規則見 docs/tokens.md；送出後會轉到進度頁，自動更新至匯入完成（十萬筆約需 20 秒）。",
        "Formats and rules: docs/tokens.md. Sending the file opens its progress page, which "
        "reloads itself until the import is done (about 20 s for 100,000 tokens).",
    ),
    "import_reading": ("讀取並檢查檔案中…", "Reading and checking the file…"),
    "import_storing": ("儲存中：", "Storing: "),
    "import_of": (" / ", " of "),
    "import_reloads": (
        "本頁每秒自動更新，離開本頁不會中斷匯入。",
        "This page reloads itself every second; leaving it does not stop the import.",
    ),
    "import_interrupted": (
        "處理匯入的程序已停止。匯入在單一交易中完成，不是全部寫入就是完全沒有：請查看稽核紀錄中的"
        " ImportTokens 或載具清單。",
        "The process running this import stopped. An import is one transaction, stored whole "
        "or not at all: see ImportTokens in the audit trail, or the token list.",
    ),
    "import_started_by": ("匯入者", "Started by"),
    "import_another": ("匯入另一個檔案", "Import another file"),
    "distribute": ("派發（列印啟用單）", "Distribute (print an activation sheet)"),
    "distribute_to": ("派發給帳號（可留空）", "to the account (optional)"),
    "distribute_new": ("派發新令牌", "Distribute a new token"),
    "distribute_refused": ("無法派發。", "Cannot distribute."),
    "sheet_title": ("動態密碼令牌啟用單", "Token activation sheet"),
    "activation_code": ("啟用碼", "Activation code"),
    "activation_password": ("啟用密碼", "Activation password"),
    "valid_until": ("有效期限", "Valid until"),
    "activate_at": ("啟用網址", "Activate at"),
    "sheet_instructions": (
        "請至啟用網址輸入令牌序號、啟用碼與啟用密碼，以驗證器 App 掃描顯示的 QR 碼。請勿將本單交給他人。",
        "Open the activation address, type the serial, the activation code and the activation "
        "password, and scan the QR code shown with an authenticator app. Keep this sheet to "
        "yourself.",
    ),
    "sheet_once": (
        "啟用碼與密碼只顯示這一次（系統僅保存其雜湊）：請立即列印。重新整理本頁會重新派發並使本單失效。",
        "The code and password are shown this once (only their hashes are kept): print now. "
        "Reloading this page distributes again and voids this sheet.",
    ),
    "problem_too_many_sign_ins": (
        "此位址登入嘗試次數過多，請稍候再試。",
        "Too many sign-in tries from this address: wait a minute and try again.",
    ),
    "problem_too_large": ("檔案過大。", "The file is too large."),
}

TEXT = translations(_TEXT)
