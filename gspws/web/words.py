"""The words of the sign-in approval page and the activation page, in Traditional Chinese (the
default) and English: a table beside the binding page's (gspws.web.i18n), whose shared words
(account, code, colon, …) these pages use too. A missing translation fails at import."""

from gspws.web.i18n import TEXT
from gspws.web.pages import translations

_TEXT = {
    "approve_title": ("確認登入", "Approve a sign-in"),
    "approve_intro": (
        "有人正在以 QR Code 登入。若是您本人，請輸入帳號及驗證器(Authenticator)目前的六碼驗證碼。",
        "Someone is signing in with a QR code. If it is you, enter your account and the "
        "6-digit code your authenticator shows now.",
    ),
    "next": ("下一步", "Next"),
    "choose_number": (
        "請選擇與電腦畫面上相同的數字，再按【確認登入】。若不是您本人登入，請按【拒絕】。",
        "Choose the number the computer screen shows, then press Approve. If you are not "
        "signing in, press Deny.",
    ),
    "approve": ("確認登入", "Approve"),
    "deny": ("拒絕", "Deny"),
    "stage_approved": (
        "已確認登入，請回到電腦畫面繼續。",
        "Approved: continue on the computer.",
    ),
    "stage_denied": ("已拒絕此次登入。", "This sign-in was denied."),
    "stage_gone": (
        "登入已超過有效時間或已處理，請在電腦畫面重新取得 QR Code。",
        "This sign-in has expired or was already handled. Get a new QR code on the computer.",
    ),
    "stage_error": ("系統內部錯誤，請稍後再試。", "Internal error. Please try again later."),
    "problem_wrong_code": (
        "帳號或驗證碼錯誤，請確認後再試一次。",
        "The account or the code is not right. Check them and try again.",
    ),
    "problem_too_many": (
        "錯誤次數過多，此次登入已取消。",
        "Too many wrong tries: this sign-in was cancelled.",
    ),
    "problem_wrong_number": (
        "數字不符，此次登入已取消。",
        "That was not the number on the computer: this sign-in was cancelled.",
    ),
    "activate_title": ("啟用動態密碼令牌", "Activate your token"),
    "activate_intro": (
        "請輸入您收到的令牌序號、啟用碼及啟用密碼。金鑰僅會顯示一次。",
        "Enter the token serial, activation code and activation password you were given. "
        "The key is shown once.",
    ),
    "serial": ("令牌序號", "Token serial"),
    "activation_code": ("啟用碼", "Activation code"),
    "activation_password": ("啟用密碼", "Activation password"),
    "activate": ("啟用", "Activate"),
    "activated": (
        "令牌已啟用。請使用手機掃描下方 QR Code，或在驗證器中輸入金鑰。本頁離開後不再顯示。",
        "Your token is active. Scan the QR code with your phone, or type the key into the "
        "app. It is not shown again once you leave this page.",
    ),
    "problem_activation_wrong": (
        "令牌序號、啟用碼或啟用密碼錯誤。",
        "The serial, activation code or activation password is not right.",
    ),
    "problem_activation_gone": (
        "註冊已超過有效時間或此帳號已被註冊",
        "The activation has expired, was voided by wrong tries, or was already used",
    ),
}

#: ``WORDS[language]``: the binding page's words with these added.
WORDS = {lang: {**TEXT[lang], **words} for lang, words in translations(_TEXT).items()}
