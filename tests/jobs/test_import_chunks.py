"""Imports write a chunk at a time and keep bounded previews (issue 16: "imports read in read-only mode
in chunks, so memory stays flat: … a 50,000-row import complete[s]").

For every import kind: a file larger than one chunk imports completely with the right counts; a failure
in a later chunk leaves exactly the chunks before it saved and says so in the job's Chinese message, and
重试 continues after them without importing anything twice; a job's stored preview keeps only the first
rows (or the first rows with problems) and the counts, never the whole file, and its stash only names
the rows waiting in the job's own file. The theme plan is the exception by design: it is replaced as a
whole, in one transaction, so a failure leaves the plan as it was."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from blueprints.exchange.models import ExchangeBatch, ExchangeMark
from blueprints.insurance.models import InsuredPerson
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from blueprints.themes.models import ThemePlanRow
from blueprints.volunteers.models import Volunteer
from core import jobs, pii
from core.exports import xlsx_bytes
from core.extensions import db
from core.jobs import Job, JobStatus
from core.tabular import PendingImport
from tests import factories as F
from tests.core.test_imports import EXCHANGE_COLUMNS, _importers

CHUNK = 3
N = 7  # three chunks: 3 + 3 + 1


@pytest.fixture
def chunks(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)  # every file is previewed by a job
    monkeypatch.setattr(jobs, "IMPORT_CHUNK", CHUNK)


def _job(resp) -> Job:
    assert resp.status_code == 303, resp.status_code
    db.session.expire_all()
    return db.session.get(Job, int(re.search(r"/jobs/(\d+)$", resp.location).group(1)))


def _count(stmt) -> int:
    db.session.expire_all()
    return db.session.scalar(stmt)


# ---- the import kinds: how to build a file of n good rows, confirm it and count what it saved ----------

class Case:
    def __init__(self, role, url, extra, columns, rows, confirm, count, done_text, token_page=None):
        self.role, self.url, self.extra, self.columns, self.rows = role, url, extra, columns, rows
        self.confirm, self.count, self.done_text, self.token_page = confirm, count, done_text, token_page


def _members(world, n):
    people = [F.activity_volunteer(world["org_a"], name=f"分块{i}") for i in range(n)]
    db.session.commit()
    return [(v.id, v.name, pii.decrypt(v.id_number_enc)) for v in people]


def _case(kind: str, world) -> Case:
    urls = _importers(world)
    if kind == "volunteers":
        from tests.jobs.test_import_preview import _rows

        org = world["org_a"].id
        url, extra, columns = urls["volunteers.import_upload"]
        return Case("district_staff", url, extra, columns, lambda n: _rows(n),
                    lambda token: ("/volunteers/import/confirm", {"token": token, "org": org}),
                    select(func.count(Volunteer.id)), lambda n: f"新注册 {n} 人")
    if kind == "orgs":
        from tests.orgs.test_import import row

        url, extra, columns = urls["orgs.import_upload"]
        def rows(n):  # the last one's parent is the first one (saved by the first chunk)
            out = [row(name=f"赤坎区分块服务队{i}") for i in range(n - 1)]
            return out + [row(name="赤坎区分块服务队下属队", parent="赤坎区分块服务队0")]

        return Case("district_staff", url, extra, columns, rows,
                    lambda token: ("/orgs/import/confirm", {"token": token}),
                    select(func.count(Organization.id)), lambda n: f"已导入 {n} 个组织")
    if kind == "regions":
        url, extra, columns = urls["regions.import_upload"]

        def rows(n):  # towns, then a community whose town is in the first chunk (found in the database)
            out = [[f"分块街道{i}", "乡镇(街道)", f"440802{101 + i}", "440802"] for i in range(n - 1)]
            return out + [["分块社区", "村(社区)", "440802101001", "440802101"]]

        return Case("city_admin", url, extra, columns, rows, lambda token: ("/regions/import/confirm", {"token": token}),
                    select(func.count(Region.id)), lambda n: f"已导入 {n} 个区域")
    if kind == "insurance":
        url, extra, columns = urls["insurance.import_insured"]
        policy_id = int(url.split("/")[2])
        return Case("org_leader", url, extra, columns, lambda n: [[name, number] for _, name, number in _members(world, n)],
                    lambda token: (f"/insurance/{policy_id}/import/confirm", {"token": token}),
                    select(func.count()).select_from(InsuredPerson).where(InsuredPerson.policy_id == policy_id),
                    lambda n: f"已导入 {n} 名被保险人")
    if kind == "exchange":
        url, extra, _ = urls["exchange.import_upload"]
        return Case("city_admin", url, extra, EXCHANGE_COLUMNS,
                    lambda n: [[number, f"EXT{i:04d}"] for i, (_, _, number) in enumerate(_members(world, n))],
                    lambda token: ("/exchange/import/confirm", {"token": token}),
                    select(func.count(ExchangeMark.id)).where(ExchangeMark.confirmed_at.is_not(None)),
                    lambda n: f"已匹配并更新 {n} 名志愿者")
    raise KeyError(kind)


CHUNKED = ["volunteers", "orgs", "regions", "insurance", "exchange"]
IMPORT_KIND = {"volunteers": "volunteers.import", "orgs": "orgs.import", "regions": "regions.import",
               "insurance": "insurance.import", "exchange": "exchange.import"}


def _preview(c, case: Case, rows) -> Job:
    data = xlsx_bytes("导入", case.columns, rows)
    job = _job(c.post(case.url, data={**case.extra, "file": (io.BytesIO(data), "导入.xlsx")},
                      content_type="multipart/form-data"))
    assert job.status == JobStatus.DONE, job.error
    return job


def _confirm(c, case: Case, preview: Job) -> Job:
    body = c.get(preview.result_url).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    url, form = case.confirm(token)
    return _job(c.post(url, data=form))


@pytest.fixture
def writes(monkeypatch):
    """Every value the jobs write to their row apart from their work (progress, resume point)."""
    seen = []
    real = jobs._write

    def spy(job_id, **values):
        seen.append(values)
        real(job_id, **values)

    monkeypatch.setattr(jobs, "_write", spy)
    return seen


# ---- a file larger than one chunk imports completely ----------------------------------------------------

@pytest.mark.parametrize("kind", CHUNKED)
def test_a_file_of_several_chunks_imports_every_row_committing_chunk_by_chunk(kind, world, as_role, chunks, writes,
                                                                              monkeypatch):
    case = _case(kind, world)
    c = as_role(case.role)
    rows = case.rows(N)
    before = _count(case.count)
    commits = []
    monkeypatch.setattr(jobs, "_saved_stage", lambda done, total: commits.append(done) or f"已保存 {done} / {total} 行")
    done = _confirm(c, case, _preview(c, case, rows))
    assert done.status == JobStatus.DONE, done.error
    assert (done.done, done.total) == (N, N)
    assert case.done_text(N) in done.message
    assert _count(case.count) - before == N
    assert commits == [0, 3, 6, 7]  # the progress after each committed chunk
    stages = [w["stage"] for w in writes if "stage" in w]
    assert "已保存 3 / 7 行" in stages and "已保存 6 / 7 行" in stages
    assert jobs.file_size(done.id, jobs.INPUT) is None  # the input goes once everything is in


def test_chunks_are_committed_and_the_session_cleared_between_them(world, as_role, chunks, monkeypatch):
    """Nothing of a chunk stays in the session: the next chunk starts without the objects it made."""
    case = _case("orgs", world)
    c = as_role(case.role)
    preview = _preview(c, case, case.rows(N))
    seen = []
    import blueprints.orgs.importing as importing

    real = importing.apply_import

    def apply(user, rows):
        held = {key[1][0] for key in db.session.identity_map.keys() if key[0] is Organization}
        seen.append((len(rows), held))
        return real(user, rows)

    monkeypatch.setattr(importing, "apply_import", apply)
    done = _confirm(c, case, preview)
    assert done.status == JobStatus.DONE
    assert [n for n, _ in seen] == [3, 3, 1]
    db.session.expire_all()
    first = set(db.session.scalars(select(Organization.id).where(Organization.name.in_(
        [f"赤坎区分块服务队{i}" for i in range(3)]))))
    assert len(first) == 3
    assert not (seen[1][1] | seen[2][1]) & first  # the first chunk's organizations are gone from the session


# ---- a failure half-way says what is saved; a retry continues after it ---------------------------------

@pytest.mark.parametrize("kind", CHUNKED)
def test_a_failure_in_a_later_chunk_keeps_the_chunks_before_it_and_says_so_and_a_retry_finishes(
        kind, world, as_role, chunks, monkeypatch):
    case = _case(kind, world)
    c = as_role(case.role)
    preview = _preview(c, case, case.rows(N))
    before = _count(case.count)
    real = jobs._KINDS[IMPORT_KIND[kind]]
    calls = []

    def second_chunk_fails(user, params, rows, counts):
        calls.append(len(rows))
        real.run.apply(user, params, rows, counts)  # the chunk's rows are written, then it fails
        if len(calls) == 2:
            raise jobs.JobError("测试：第二批写入时出错")

    monkeypatch.setitem(jobs._KINDS, IMPORT_KIND[kind],
                        jobs._Kind(jobs._Chunked(second_chunk_fails, real.run.done, real.run.size), "chunked"))
    failed = _confirm(c, case, preview)
    assert failed.status == JobStatus.FAILED
    assert "测试：第二批写入时出错" in failed.error
    assert "已保存前 3 条" in failed.error and "其余 4 条（共 7 条）未导入" in failed.error
    assert "从第 4 条继续" in failed.error
    assert _count(case.count) - before == 3  # the first chunk, and nothing of the second
    assert failed.done == 3
    monkeypatch.setitem(jobs._KINDS, IMPORT_KIND[kind], real)
    assert c.post(f"/jobs/{failed.id}/retry").status_code in (200, 303)
    db.session.expire_all()
    again = db.session.get(Job, failed.id)
    assert again.status == JobStatus.DONE, again.error
    assert _count(case.count) - before == N  # the first chunk is not imported twice
    assert case.done_text(N) in again.message  # counted over both runs


def test_a_failure_in_the_first_chunk_says_nothing_was_imported(world, as_role, chunks, monkeypatch):
    case = _case("volunteers", world)
    c = as_role(case.role)
    preview = _preview(c, case, case.rows(N))
    before = _count(case.count)
    from blueprints.volunteers import services

    real = services.register
    calls = []

    def fails_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise services.VolunteerError("测试：登记失败")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "register", fails_on_the_second)
    failed = _confirm(c, case, preview)
    assert failed.status == JobStatus.FAILED
    assert "测试：登记失败" in failed.error and "未导入任何数据" in failed.error
    assert _count(case.count) == before


def test_one_person_one_record_across_chunks(world, as_role, chunks):
    """The preview finds the same 身份证号 in different chunks of the file; and people registered by an
    earlier import's chunks are recognised by a later import (never a second record)."""
    from tests.jobs.test_import_preview import _rows

    case = _case("volunteers", world)
    c = as_role(case.role)
    rows = _rows(N)
    rows[5][1] = rows[0][1]  # row 7 of the sheet (the second chunk) repeats row 2's number
    preview = _preview(c, case, rows)
    stored = json.loads(jobs.read_file(preview.id, jobs.PREVIEW))
    assert stored["bad"] == 1 and "与第 2 行的身份证号重复" in stored["rows"][0]["errors"][0]
    assert stored["token"] is None
    # two previews of overlapping people, confirmed one after the other
    first, second = _rows(N), _rows(N)
    second[:4] = first[3:]  # the second file's first chunk and part of the next are people of the first
    p1, p2 = _preview(c, case, first), _preview(c, case, second)
    before = _count(case.count)
    assert _confirm(c, case, p1).status == JobStatus.DONE
    failed = _confirm(c, case, p2)
    assert failed.status == JobStatus.FAILED and "已是本组织成员" in failed.error
    assert "未导入任何数据" in failed.error
    assert _count(case.count) - before == N
    numbers = [pii.lookup_hash(r[1]) for r in first]
    assert _count(select(func.count(Volunteer.id)).where(Volunteer.id_hash.in_(numbers))) == N


def test_a_read_back_in_several_chunks_is_one_batch(world, as_role, chunks):
    case = _case("exchange", world)
    c = as_role(case.role)
    before = _count(select(func.count(ExchangeBatch.id)))
    assert _confirm(c, case, _preview(c, case, case.rows(N))).status == JobStatus.DONE
    db.session.expire_all()
    batches = db.session.scalars(select(ExchangeBatch).order_by(ExchangeBatch.id.desc())).all()
    assert len(batches) - before == 1 and batches[0].rows == N


# ---- the preview is bounded --------------------------------------------------------------------------------

PREVIEWED = CHUNKED + ["themes"]


def _junk(kind: str, columns: list[str], n: int) -> list[list]:
    if kind == "themes":
        return [["13", ""] + ["x"] * (len(columns) - 2)] * n  # no such month, no name
    return [["错"] * len(columns) for _ in range(n)]


@pytest.mark.parametrize("kind", PREVIEWED)
def test_a_preview_keeps_only_the_first_rows_with_problems_and_the_counts(kind, world, as_role, chunks, monkeypatch):
    monkeypatch.setattr(jobs, "PREVIEW_BAD_ROWS", 2)
    monkeypatch.setattr(jobs, "PREVIEW_ROWS", 2)
    if kind == "themes":
        url, extra, columns = _importers(world)["themes.import_upload"]
        case = Case("city_admin", url, extra, columns, None, None, None, None)
    else:
        case = _case(kind, world)
    c = as_role(case.role)
    preview = _preview(c, case, _junk(kind, case.columns, 9))
    stored = json.loads(jobs.read_file(preview.id, jobs.PREVIEW))
    assert (stored["total"], stored["bad"]) == (9, 9)
    assert len(stored["rows"]) == 2  # not the whole file
    assert "其中 9 行有" in preview.message
    assert jobs.file_size(preview.id, jobs.ROWS) is None  # nothing to confirm: nothing kept
    page = c.get(preview.result_url)
    assert page.status_code in (200, 422) and "9" in page.get_data(as_text=True)


@pytest.mark.parametrize("kind", CHUNKED)
def test_a_clean_preview_keeps_the_first_rows_and_its_stash_only_names_the_rows(kind, world, as_role, chunks,
                                                                                monkeypatch):
    monkeypatch.setattr(jobs, "PREVIEW_ROWS", 2)
    case = _case(kind, world)
    c = as_role(case.role)
    preview = _preview(c, case, case.rows(N))
    stored = json.loads(jobs.read_file(preview.id, jobs.PREVIEW))
    assert (stored["total"], stored["bad"]) == (N, 0) and len(stored["rows"]) == 2
    stash = db.session.scalars(select(PendingImport)).one()
    assert jobs.rows_ref_of(stash.payload) == (preview.id, N)  # no row in the stash
    assert sum(1 for _ in jobs.iter_rows(preview.id, jobs.ROWS)) == N  # they wait in the job's own file


# ---- the theme plan: replaced as a whole, by design -----------------------------------------------------

def _theme_rows(n):
    return [[str(i % 12 + 1), f"分块主题{i}", "内容", "文明办", "各区"] for i in range(n)]


def test_a_large_theme_file_replaces_the_plan_in_one_transaction_as_a_job(world, as_role, chunks):
    url, extra, columns = _importers(world)["themes.import_upload"]
    plan_id = int(url.split("/")[2])
    case = Case("city_admin", url, extra, columns, _theme_rows,
                lambda token: (f"/themes/{plan_id}/import/confirm", {"token": token}),
                select(func.count(ThemePlanRow.id)).where(ThemePlanRow.plan_id == plan_id), None)
    c = as_role(case.role)
    done = _confirm(c, case, _preview(c, case, _theme_rows(N)))
    assert done.kind == "themes.import" and done.status == JobStatus.DONE, done.error
    assert "已导入 7 行主题" in done.message and _count(case.count) == N


def test_a_theme_import_that_fails_half_way_leaves_the_plan_as_it_was(world, as_role, chunks, monkeypatch):
    from blueprints.themes import services

    url, extra, columns = _importers(world)["themes.import_upload"]
    plan_id = int(url.split("/")[2])
    case = Case("city_admin", url, extra, columns, _theme_rows,
                lambda token: (f"/themes/{plan_id}/import/confirm", {"token": token}),
                select(func.count(ThemePlanRow.id)).where(ThemePlanRow.plan_id == plan_id), None)
    c = as_role(case.role)
    preview = _preview(c, case, _theme_rows(N))
    before = db.session.scalars(select(ThemePlanRow.name).where(ThemePlanRow.plan_id == plan_id)).all()
    real, calls = services.validate_row, []

    def fifth_fails(data):
        calls.append(1)
        if len(calls) == 5:
            raise services.RowInvalid({"name": "测试"})
        return real(data)

    monkeypatch.setattr(services, "validate_row", fifth_fails)
    failed = _confirm(c, case, preview)
    assert failed.status == JobStatus.FAILED and "未导入任何数据" in failed.error
    db.session.expire_all()
    assert db.session.scalars(select(ThemePlanRow.name).where(ThemePlanRow.plan_id == plan_id)).all() == before
