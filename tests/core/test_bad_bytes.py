"""Input the database cannot hold is refused with a 4xx on SQLite and PostgreSQL alike."""
from sqlalchemy.exc import DataError

from core.extensions import db


def test_nul_byte_in_a_query_string_is_refused_with_a_message(app, as_role):
    client = as_role("city_admin")
    resp = client.get("/orgs/?q=%00")
    assert resp.status_code == 400
    assert "控制字符" in resp.get_data(as_text=True)
    assert client.get("/orgs/?q=abc").status_code == 200


def test_nul_byte_in_a_posted_form_is_refused_and_nothing_is_saved(app, client, world):
    resp = client.post("/orgs/apply", data={"name": "测试\x00组织", "username": "nul_user"})
    assert resp.status_code == 400
    from blueprints.accounts.models import User
    with app.app_context():
        assert db.session.query(User).filter_by(username="nul_user").count() == 0


def test_a_value_the_database_refuses_is_a_400_not_a_500(app):
    error = DataError("SELECT 1", {}, ValueError("integer out of range"))
    with app.test_request_context("/awards/1/panel", method="POST"):
        resp = app.make_response(app.handle_user_exception(error))
    assert resp.status_code == 400
    assert "请求无效" in resp.get_data(as_text=True)
