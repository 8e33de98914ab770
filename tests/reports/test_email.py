"""催报 e-mail: sent through SMTP only when it is configured, only to accounts with an address."""
from __future__ import annotations

import smtplib

from blueprints.reports.services import send_emails
from tests import factories


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, msg):
        FakeSMTP.sent.append((self.host, msg["To"], msg["Subject"], msg.get_content()))


def test_reminder_mail_goes_to_accounts_with_an_address(app, world, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    with_mail = factories.user("org_leader", "mail_leader", orgs=[world["org_a"]], email="leader@chikan.gov.cn")
    without = world["org_leader"]
    with app.app_context():
        app.config.update(SMTP_HOST="", SMTP_FROM="wmb@zhanjiang.gov.cn")
        assert send_emails([with_mail, without], "催报", "请尽快报送") == 0  # SMTP not configured
        app.config["SMTP_HOST"] = "mail.intranet"
        try:
            assert send_emails([with_mail, without], "催报：2026 年 10 月", "请尽快报送") == 1
        finally:
            app.config["SMTP_HOST"] = ""
    assert FakeSMTP.sent == [("mail.intranet", "leader@chikan.gov.cn", "催报：2026 年 10 月", "请尽快报送\n")]
