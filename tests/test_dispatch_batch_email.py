"""The email a dispatch sends without attachments is built with the classic MIME classes (a quarter of the CPU of
`EmailMessage`): what arrives reads exactly as the `EmailMessage` built for the same message (`email_message`),
7-bit safe; and a connection kept through a batch is reused without a NOOP while it has just answered."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from notifiers.base import Message, Outcome

LONG = "专利年费提醒：" + "、".join(f"ZL20231012345{n}.7" for n in range(8)) + " 的年费将于2024年3月1日到期"
CASES = [
    pytest.param("专利年费提醒：第7年年费将于2024年3月1日到期", "您好，请及时缴纳。", "<p>您好</p>",
                 id="chinese-subject-with-html"),
    pytest.param("Annual fee reminder", "Please pay by 1 March 2024.", None, id="ascii-subject-plain-only"),
    pytest.param(LONG, "您好，" * 400, "<p>" + "您好，" * 400 + "</p>", id="long-subject-and-body"),
    pytest.param("", "text only", None, id="no-subject"),
]


def _shown(message) -> dict:
    """What a mail client shows of a message: headers decoded, parts decoded, by content type."""
    parts = [(part.get_content_type(), part.get_content().strip()) for part in message.walk()
             if not part.is_multipart()]
    sender = message["From"].addresses[0]
    return {"subject": message["Subject"], "from": (sender.display_name, sender.addr_spec), "to": message["To"],
            "message_id": message["Message-ID"], "type": message.get_content_type(), "parts": parts,
            "encodings": sorted({str(part["Content-Transfer-Encoding"]) for part in message.walk()
                                 if not part.is_multipart()})}


@pytest.mark.parametrize(("subject", "text", "html"), CASES)
def test_an_email_arrives_as_the_email_message_built_for_it(email_transport, smtp_server, subject, text,
                                                            html) -> None:
    message = Message(key="custody-7", channel="email", recipient="ip@example.com", text=text, subject=subject,
                      html=html)
    result = email_transport.send(message)

    assert result.outcome is Outcome.SENT
    [received] = smtp_server.received
    assert received.raw.isascii()
    expected = BytesParser(policy=policy.default).parsebytes(email_transport.email_message(message).as_bytes())
    assert _shown(received.message) == _shown(expected)
    assert _shown(received.message)["encodings"] == ["base64"]  # safe through relays without 8BITMIME


def test_a_batch_of_emails_uses_one_connection(email_transport, smtp_server) -> None:
    for n in range(5):
        email_transport.send(Message(key=f"custody-{n}", channel="email", recipient=f"ip{n}@example.com",
                                     text="您好", subject="提醒"))
    email_transport.close()

    assert len(smtp_server.received) == 5
    assert len(smtp_server.logins) == 1
