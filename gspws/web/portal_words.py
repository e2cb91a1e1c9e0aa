"""The portal's words on the binding page (gspws.web.portal), zh-TW and en, merged into the
page's table (gspws.web.i18n ``TEXT``); seed 003's names where it has them."""

PORTAL_WORDS = {
    "self_service": ("令牌自助服務", "Self-service"),
    "serial": ("令牌序號", "Token serial"),
    "code_1": ("第一組動態密碼", "First code"),
    "code_2": ("下一組動態密碼", "The next code"),
    "any_device": ("任一裝置", "Any device"),
    "device": ("裝置", "Device"),
    "event_tokens": ("事件型硬體令牌", "Event-based hardware tokens"),
    "bind_hardware": ("綁定硬體令牌", "Bind a hardware token"),
    "bind_hardware_help": (
        "輸入令牌背面的序號，再依序輸入令牌上連續顯示的兩組動態密碼。",
        "Type the serial number on the back of the token, then two codes it shows one after "
        "the other.",
    ),
    "bind": ("綁定", "Bind"),
    "code_test": ("令牌認證測試", "Test a code"),
    "code_test_help": (
        "測試不會登入，也不會使用掉這組動態密碼。",
        "A test signs nobody in and does not use the code up.",
    ),
    "test": ("測試", "Test"),
    "sync": ("令牌同步", "Synchronise a token"),
    "sync_help": (
        "令牌的時間或計數與伺服器不一致時，輸入連續的兩組動態密碼以重新同步。",
        "When a token's clock or counter has drifted, type two consecutive codes to "
        "synchronise it.",
    ),
    "sync_button": ("同步", "Synchronise"),
    "report_lost": ("掛失", "Report lost"),
    "report_lost_help": (
        "掛失後此裝置的動態密碼一律無法使用，直到解除掛失。",
        "A device reported lost is refused everywhere until it is found.",
    ),
    "lost_devices": ("已掛失的裝置", "Devices reported lost"),
    "report_found": ("解除掛失", "Found it"),
    "request_token": ("申請綁定", "Request a token"),
    "request_token_help": (
        "由機關的令牌庫配發一個軟體式令牌，金鑰只顯示這一次。",
        "A software token from the organisation's pool; its key is shown this once.",
    ),
    "issued_title": ("已配發令牌", "Your new token"),
    "issued_once": (
        "請立即以驗證器掃描此二維條碼；離開本頁後將不再顯示。",
        "Scan this QR code with your authenticator now: it is not shown again.",
    ),
    "back": ("返回", "Back"),
    "notice_hardware_bound": ("已綁定硬體令牌。", "The hardware token is bound to you."),
    "notice_reported_lost": ("已掛失此裝置。", "The device is reported lost."),
    "notice_found": ("已解除掛失。", "The device is back in use."),
    "notice_code_test_passed": (
        "認證成功：這組動態密碼正確。",
        "Passed: the code is right.",
    ),
    "notice_synced": ("同步完成。", "The token is synchronised."),
    "problem_code_test_failed": (
        "認證失敗：這組動態密碼不正確。",
        "Failed: the code is not right.",
    ),
    "problem_bind_refused": (
        "無法綁定：序號或動態密碼不正確，或此令牌無法綁定。",
        "Not bound: the serial number or the codes are not right, or this token cannot be bound.",
    ),
    "problem_pool_empty": (
        "目前沒有可配發的令牌，請洽系統管理者。",
        "There is no token to hand out now; ask your administrator.",
    ),
    "problem_try_later": ("嘗試次數過多，請稍後再試。", "Too many tries; try again later."),
}
