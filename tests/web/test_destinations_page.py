"""The binding page: a person adds or changes their own mobile number or e-mail address, proven
by a code sent there (through the outbox) and typed back; on SQLite and PostgreSQL."""

from sqlalchemy import select

from gspws.store.models import Account, OutboxMessage

from binding import Visitor, add_account, new_link

STATUS = "/owin/manage/TOTPStatus"


def _sent_code(store) -> tuple[str, str]:
    """The newest outbox message's destination and the code in its text."""
    with store.reading() as repo:
        message = repo.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id.desc())
        ).first()
        text = repo.secrets.decrypt(message.body_encrypted)
    return message.destination, "".join(c for c in text if c.isdigit())[:6]


def _account(store, name: str):
    with store.reading() as repo:
        row = repo.session.scalar(select(Account).where(Account.account == name))
        return row.mobile, row.mobile_verified, row.email, row.email_verified


def test_person_verifies_a_new_mobile_number(live_server, settings, store, clock):
    add_account(store, "carol")
    visitor = Visitor(live_server)
    assert 'id="mobile">未設定' in visitor.sign_in(new_link(settings, store, clock, "carol")).text
    sent = visitor.post(f"{STATUS}/Destination", channel="sms", value="+886 912 345 678")
    assert sent.status_code == 200 and 'id="notice"' in sent.text
    destination, code = _sent_code(store)
    assert destination == "0912345678"
    assert _account(store, "carol") == (None, False, None, False)  # not before it is proven
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert (
        visitor.post(f"{STATUS}/DestinationConfirm", channel="sms", code=wrong).status_code == 400
    )
    done = visitor.post(f"{STATUS}/DestinationConfirm", channel="sms", code=code)
    assert done.status_code == 200 and 'id="mobile">0912***678' in done.text
    assert _account(store, "carol") == ("0912345678", True, None, False)


def test_person_verifies_an_email_address_and_bad_input_is_refused(
    live_server, settings, store, clock
):
    add_account(store, "dave")
    visitor = Visitor(live_server)
    visitor.sign_in(new_link(settings, store, clock, "dave"))
    assert (
        visitor.post(f"{STATUS}/Destination", channel="sms", value="0212345678").status_code == 400
    )
    visitor.post(f"{STATUS}/Destination", channel="email", value="dave@example.org")
    _, code = _sent_code(store)
    visitor.post(f"{STATUS}/DestinationConfirm", channel="email", code=code)
    assert _account(store, "dave") == (None, False, "dave@example.org", True)


def test_destination_forms_need_a_session(live_server):
    visitor = Visitor(live_server)
    assert (
        visitor.post(
            f"{STATUS}/Destination", csrf=None, channel="sms", value="0912345678"
        ).status_code
        == 403
    )
