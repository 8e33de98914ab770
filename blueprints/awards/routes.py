"""Commendation (评选表彰): campaigns, nominations, panel scoring, 公示 with objections, certificates."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role, User
from blueprints.activities.models import Activity
from blueprints.awards import services
from blueprints.awards.forms import (CampaignForm, EvidenceForm, KindForm, NominationForm, ObjectionForm, PanelForm,
                                     ResolveForm, TransitionForm)
from blueprints.awards.models import (AwardKind, Campaign, CampaignStage, Nomination, NominationFile,
                                      NominationStatus, NomineeType, Objection)
from blueprints.awards.services import AwardError
from blueprints.regions.models import Region
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core import jobs, scope
from core.auth import allow_volunteer, roles_required
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.dashboard import Tile, register_tile
from core.panels import Panel, register_panel
from core.pdf import pdf_response, render_pdf
from core.timeutil import local_today
from core.uploads import IMAGES, UploadError, read_upload, send_stored, store_bytes
from core.templating import is_htmx, render_htmx, vary_hx

bp = Blueprint("awards", __name__, url_prefix="/awards")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER, Role.REVIEWER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
EVIDENCE_KINDS = IMAGES | frozenset({"pdf"})
register_nav("评选表彰", "awards.index", READERS, order=640, group="激励")



def _campaign(campaign_id: int) -> Campaign:
    return scope.get_scoped_or_404(Campaign, campaign_id, current_user)


def _nomination(nomination_id: int, write: bool = False) -> Nomination:
    return scope.get_scoped_or_404(Nomination, nomination_id, current_user, write=write)


def _fail(e: AwardError, endpoint: str, **values):
    db.session.rollback()
    if e.status in (403, 404):
        abort(e.status)
    flash(e.message, "error")
    return redirect(url_for(endpoint, **values), 303)


# ---- campaigns -------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    campaigns = list(db.session.scalars(scope.scoped(select(Campaign), Campaign, current_user)
                                        .order_by(Campaign.year.desc(), Campaign.id.desc())))
    return render_template("awards/index.html", campaigns=campaigns)


def _campaign_data(form: CampaignForm) -> services.CampaignData:
    return services.CampaignData(**{k: getattr(form, k).data for k in (
        "year", "title", "nomination_start", "nomination_end", "district_deadline", "review_deadline",
        "notice_start", "notice_end", "presentation_date", "deeds_limit", "granting_unit")})


def _save_campaign(form: CampaignForm, campaign: Campaign | None):
    try:
        criteria = services.parse_criteria(form.criteria.data)
        d = _campaign_data(form)
        if campaign is None:
            campaign = services.create_campaign(current_user, d, criteria)
        else:
            services.update_campaign(current_user, campaign, d, criteria)
    except AwardError as e:
        db.session.rollback()
        getattr(form, e.field or "title").errors.append(e.message)
        return None
    db.session.commit()
    return campaign


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def create():
    form = CampaignForm()
    if request.method == "GET":
        for k, v in services.default_campaign(local_today()).__dict__.items():
            getattr(form, k).data = v
        form.criteria.data = services.criteria_text(services.DEFAULT_CRITERIA)
    if form.validate_on_submit():
        campaign = _save_campaign(form, None)
        if campaign is not None:
            flash("已发起评选，默认奖项已建好，可逐项调整名额和条件。", "success")
            return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    return render_template("awards/campaign_form.html", form=form, campaign=None,
                           days=services.PRESENTATION_DAYS), 422 if form.errors else 200


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = CampaignForm(obj=campaign) if request.method == "GET" else CampaignForm()
    if request.method == "GET":
        form.criteria.data = services.criteria_text(campaign.criteria)
    if form.validate_on_submit():
        if _save_campaign(form, campaign) is not None:
            flash("已保存。", "success")
            return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    return render_template("awards/campaign_form.html", form=form, campaign=campaign,
                           days=services.PRESENTATION_DAYS), 422 if form.errors else 200


@bp.get("/<int:campaign_id>")
@roles_required(*READERS)
def detail(campaign_id: int):
    campaign = _campaign(campaign_id)
    districts = list(db.session.scalars(select(Region).where(Region.level == "district").order_by(Region.code, Region.id)))
    counts, used = {}, {}
    stmt = scope.scoped(select(Nomination).where(Nomination.campaign_id == campaign.id), Nomination, current_user)
    for n in db.session.scalars(stmt):
        counts[n.status] = counts.get(n.status, 0) + 1
        if n.status != NominationStatus.DRAFT and n.district_order:
            used[n.kind_id] = used.get(n.kind_id, 0) + 1
    return render_template("awards/detail.html", campaign=campaign, districts=districts, counts=counts, used=used,
                           own_district=current_user.region_id if current_user.role == Role.DISTRICT_STAFF else None,
                           open=services.nomination_open(campaign), actions=services.STAGE_ACTIONS,
                           action_form=EmptyForm(), is_panel=services.is_panel_member(current_user, campaign))


@bp.post("/<int:campaign_id>/advance")
@roles_required(Role.CITY_ADMIN)
def advance(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = EmptyForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit():
        abort(400)
    try:
        services.advance(current_user, campaign, action)
    except AwardError as e:
        return _fail(e, "awards.detail", campaign_id=campaign.id)
    db.session.commit()
    flash(f"已{services.STAGE_ACTIONS[action][2]}。", "success")
    return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)


def _kind_form(form: KindForm, districts: list[Region], kind: AwardKind | None):
    quotas = {}
    errors = False
    for r in districts:
        raw = request.form.get(f"q{r.id}", "") if request.method == "POST" else str(
            kind.quota_for(r.id) if kind else services.DEFAULT_DISTRICT_QUOTA)
        try:
            value = int(raw)
            if not 0 <= value <= 500:
                raise ValueError
        except ValueError:
            value, errors = None, True
        quotas[r.id] = value
    return quotas, errors


@bp.route("/<int:campaign_id>/kinds/new", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def kind_new(campaign_id: int):
    return _kind_page(_campaign(campaign_id), None)


@bp.route("/<int:campaign_id>/kinds/<int:kind_id>", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def kind_form(campaign_id: int, kind_id: int):
    campaign = _campaign(campaign_id)
    kind = db.session.get(AwardKind, kind_id)
    if kind is None or kind.campaign_id != campaign.id:
        abort(404)
    return _kind_page(campaign, kind)


def _kind_page(campaign: Campaign, kind: AwardKind | None):
    if campaign.stage != CampaignStage.NOMINATING:
        flash("评审开始后不能再修改奖项。", "error")
        return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    form = KindForm(obj=kind) if request.method == "GET" and kind else KindForm()
    if request.method == "GET" and kind:
        form.nominee_type.data = kind.nominee_type.value
    districts = list(db.session.scalars(select(Region).where(Region.level == "district").order_by(Region.code, Region.id)))
    quotas, quota_errors = _kind_form(form, districts, kind)
    quota_error = "各区名额应为 0–500 的整数" if quota_errors and request.method == "POST" else ""
    if form.validate_on_submit() and not quota_errors:
        d = services.KindData(name=form.name.data.strip(), nominee_type=NomineeType(form.nominee_type.data),
                              quota=form.quota.data, min_star=form.min_star.data, min_hours=form.min_hours.data,
                              min_years=form.min_years.data, no_dismissal=form.no_dismissal.data,
                              active_org=form.active_org.data)
        try:
            services.save_kind(current_user, campaign, kind, d, quotas)
        except AwardError as e:
            db.session.rollback()
            getattr(form, e.field or "name").errors.append(e.message)
        else:
            db.session.commit()
            flash("奖项已保存。", "success")
            return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    status = 422 if form.errors or quota_error else 200
    return render_template("awards/kind_form.html", form=form, campaign=campaign, kind=kind, districts=districts,
                           quotas=quotas, quota_error=quota_error, raw=request.form), status


@bp.post("/<int:campaign_id>/kinds/<int:kind_id>/delete")
@roles_required(Role.CITY_ADMIN)
def kind_delete(campaign_id: int, kind_id: int):
    campaign = _campaign(campaign_id)
    kind = db.session.get(AwardKind, kind_id)
    if kind is None or kind.campaign_id != campaign.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_kind(current_user, kind)
    except AwardError as e:
        return _fail(e, "awards.detail", campaign_id=campaign.id)
    db.session.commit()
    flash("奖项已删除。", "success")
    return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)


@bp.route("/<int:campaign_id>/panel", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def panel(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = PanelForm()
    reviewers = list(db.session.scalars(select(User).where(User.role == Role.REVIEWER).order_by(User.username)))
    form.reviewers.choices = [(u.id, f"{u.display_name}（{u.username}）") for u in reviewers]
    if request.method == "GET":
        form.reviewers.data = [m.user_id for m in campaign.panel]
    if form.validate_on_submit():
        try:
            services.set_panel(current_user, campaign, [i for i in (form.reviewers.data or []) if i])
        except AwardError as e:
            db.session.rollback()
            form.reviewers.errors.append(e.message)
        else:
            db.session.commit()
            flash("评审专家已更新。", "success")
            return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    return render_template("awards/panel.html", form=form, campaign=campaign, reviewers=reviewers), \
        422 if form.errors else 200


@bp.get("/<int:campaign_id>/progress")
@roles_required(Role.CITY_ADMIN)
def progress(campaign_id: int):
    campaign = _campaign(campaign_id)
    reviewers, noms, cells = services.progress(campaign)
    return render_template("awards/progress.html", campaign=campaign, reviewers=reviewers, noms=noms, cells=cells)


@bp.get("/<int:campaign_id>/results")
@roles_required(*READERS)
def results(campaign_id: int):
    campaign = _campaign(campaign_id)
    # Live scores are the city admin's; everyone else sees results only after scoring has closed.
    if not campaign.scoring_closed and current_user.role != Role.CITY_ADMIN:
        abort(403)
    rows = services.results(campaign)
    if current_user.role != Role.CITY_ADMIN:
        visible = set(db.session.scalars(scope.scoped(select(Nomination.id).where(
            Nomination.campaign_id == campaign.id), Nomination, current_user)))
        rows = {k: [r for r in v if r.nomination.id in visible] for k, v in rows.items()}
    return render_template("awards/results.html", campaign=campaign, rows=rows,
                           kinds={k.id: k for k in campaign.kinds})


# ---- nominations -----------------------------------------------------------------------------------

@bp.get("/<int:campaign_id>/nominations")
@roles_required(*READERS)
def nominations(campaign_id: int):
    campaign = _campaign(campaign_id)
    stmt = scope.scoped(select(Nomination).where(Nomination.campaign_id == campaign.id), Nomination, current_user)
    status = request.args.get("status", "")
    if status in {s.value for s in NominationStatus}:
        stmt = stmt.where(Nomination.status == NominationStatus(status))
    kind = request.args.get("kind", "")
    if kind.isdigit() and len(kind) < 10:
        stmt = stmt.where(Nomination.kind_id == int(kind))
    stmt = stmt.order_by(Nomination.kind_id, Nomination.district_id, Nomination.district_order, Nomination.id)
    page = paginate(stmt, request.args.get("page"))
    args = {"status": status, "kind": kind}
    ctx = dict(campaign=campaign, page=page, args=args, statuses=list(NominationStatus), move_form=EmptyForm())
    return render_htmx("awards/nominations.html", "awards/_nomination_rows.html", **ctx)


def _nomination_form(form: NominationForm, campaign: Campaign):
    orgs = sorted(current_user.organizations, key=lambda o: o.id)
    form.kind_id.choices = [(k.id, f"{k.name}（{k.nominee_type.label}）") for k in campaign.kinds]
    form.organization_id.choices = [(o.id, o.name) for o in orgs]
    org_ids = [o.id for o in orgs]
    vols = db.session.execute(select(Volunteer.id, Volunteer.name, Volunteer.number).where(
        Volunteer.id.in_(select(Membership.volunteer_id).where(Membership.organization_id.in_(org_ids))),
        Volunteer.status == VolunteerStatus.ACTIVE).order_by(Volunteer.name_pinyin).limit(2000)).all()
    form.volunteer_id.choices = [("", "（推荐志愿者时选择）")] + [(v.id, f"{v.name} {v.number}") for v in vols]
    acts = db.session.execute(select(Activity.id, Activity.held_on, Activity.title).where(
        Activity.organization_id.in_(org_ids), Activity.held_on >= date(local_today().year - 2, 1, 1))
        .order_by(Activity.held_on.desc()).limit(500)).all()
    form.activity_id.choices = [("", "（不关联活动）")] + [(a.id, f"{a.held_on:%Y-%m-%d} {a.title}") for a in acts]
    from blueprints.projects.models import VolunteerProject  # the project library

    projects = db.session.execute(select(VolunteerProject.id, VolunteerProject.title).where(
        VolunteerProject.organization_id.in_(org_ids)).order_by(VolunteerProject.start_date.desc()).limit(300)).all()
    form.project_id.choices = [("", "（不关联项目库）")] + [(p.id, p.title) for p in projects]


def _nomination_data(form: NominationForm) -> services.NominationData:
    return services.NominationData(kind_id=form.kind_id.data or 0, organization_id=form.organization_id.data or 0,
                                   volunteer_id=form.volunteer_id.data, project_title=form.project_title.data or "",
                                   activity_id=form.activity_id.data, project_id=form.project_id.data,
                                   summary=form.summary.data or "", deeds=form.deeds.data or "")


@bp.route("/<int:campaign_id>/nominate", methods=["GET", "POST"])
@roles_required(Role.ORG_LEADER)
def nominate(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not services.nomination_open(campaign):
        flash("不在推荐申报期内。", "error")
        return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    form = NominationForm()
    _nomination_form(form, campaign)
    if request.method == "GET":
        kid = request.args.get("kind", "")
        if kid.isdigit() and len(kid) < 10:
            form.kind_id.data = int(kid)
    if form.validate_on_submit():
        try:
            n = services.save_nomination(current_user, campaign, None, _nomination_data(form))
        except AwardError as e:
            db.session.rollback()
            if e.status == 403:
                abort(403)
            getattr(form, e.field or "kind_id").errors.append(e.message)
        else:
            db.session.commit()
            flash("推荐草稿已保存。请上传证明材料，确认后提交。", "success")
            return redirect(url_for("awards.nomination", nomination_id=n.id), 303)
    return render_template("awards/nomination_form.html", form=form, campaign=campaign, nomination=None), \
        422 if form.errors else 200


@bp.route("/nominations/<int:nomination_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ORG_LEADER)
def edit_nomination(nomination_id: int):
    n = _nomination(nomination_id, write=True)
    campaign = n.campaign
    if n.status != NominationStatus.DRAFT:
        flash("只有草稿可以修改。", "error")
        return redirect(url_for("awards.nomination", nomination_id=n.id), 303)
    form = NominationForm(obj=n) if request.method == "GET" else NominationForm()
    _nomination_form(form, campaign)
    if form.validate_on_submit():
        try:
            services.save_nomination(current_user, campaign, n, _nomination_data(form))
        except AwardError as e:
            db.session.rollback()
            if e.status == 403:
                abort(403)
            getattr(form, e.field or "kind_id").errors.append(e.message)
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("awards.nomination", nomination_id=n.id), 303)
    return render_template("awards/nomination_form.html", form=form, campaign=campaign, nomination=n), \
        422 if form.errors else 200


def _nomination_page(n: Nomination, transition_form=None, score_errors=None, evidence_form=None, status=200):
    campaign = n.campaign
    user = current_user
    facts = n.facts if n.status != NominationStatus.DRAFT else services.facts_for(n)
    reasons = services.eligibility(n.kind, facts) if n.status == NominationStatus.DRAFT else []
    show_sheets = campaign.scoring_closed and user.role in (Role.CITY_ADMIN, Role.REVIEWER)
    own_sheet = None
    can_score = recused = False
    if user.role == Role.REVIEWER:
        own_sheet = next((s for s in services.sheets_of(n) if s.reviewer_id == user.id), None)
        recused = services.must_recuse(user, n)
        can_score = (campaign.stage == CampaignStage.SCORING and n.status == NominationStatus.RECOMMENDED
                     and not recused and services.is_panel_member(user, campaign))
    ctx = dict(n=n, campaign=campaign, facts=facts, reasons=reasons,
               actions=services.available_actions(n, user) if user.can_write else [],
               labels=services.ACTION_LABELS, transition_form=transition_form or TransitionForm(),
               evidence_form=evidence_form or EvidenceForm(), action_form=EmptyForm(),
               sheets=services.sheets_of(n) if show_sheets else [], own_sheet=own_sheet, can_score=can_score,
               recused=recused, score_errors=score_errors or {},
               can_upload=user.role == Role.ORG_LEADER and n.status == NominationStatus.DRAFT,
               quota=n.kind.quota_for(n.district_id))
    return render_template("awards/nomination.html", **ctx), status


@bp.get("/nominations/<int:nomination_id>")
@roles_required(*READERS)
def nomination(nomination_id: int):
    return _nomination_page(_nomination(nomination_id))


@bp.post("/nominations/<int:nomination_id>/transition")
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
def transition(nomination_id: int):
    n = _nomination(nomination_id, write=True)
    form = TransitionForm()
    if not form.validate_on_submit():
        return _nomination_page(n, transition_form=form, status=422)
    action = form.action.data
    if action not in services.USER_ACTIONS:
        form.action.errors.append("未知的操作")
        return _nomination_page(n, transition_form=form, status=422)
    try:
        services.transition(n, action, current_user, form.comment.data or "")
    except AwardError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        form.comment.errors.append(e.message)
        return _nomination_page(_nomination(nomination_id), transition_form=form, status=422)
    db.session.commit()
    flash(f"已{services.ACTION_LABELS[action]}。", "success")
    return redirect(url_for("awards.nomination", nomination_id=n.id), 303)


@bp.post("/nominations/<int:nomination_id>/move")
@roles_required(*OFFICE)
def move(nomination_id: int):
    n = _nomination(nomination_id, write=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.reorder(current_user, n, "up" if request.form.get("direction") == "up" else "down")
    except AwardError as e:
        return _fail(e, "awards.nominations", campaign_id=n.campaign_id, status="recommended")
    db.session.commit()
    return redirect(url_for("awards.nominations", campaign_id=n.campaign_id, status="recommended"), 303)


@bp.post("/nominations/<int:nomination_id>/files")
@roles_required(Role.ORG_LEADER)
def upload(nomination_id: int):
    n = _nomination(nomination_id, write=True)
    form = EvidenceForm()
    if n.status != NominationStatus.DRAFT:
        form.file.errors = ["只有草稿可以上传材料"]
        return _nomination_page(n, evidence_form=form, status=422)
    if not form.validate_on_submit():
        return _nomination_page(n, evidence_form=form, status=422)
    upload_ = form.file.data
    if not upload_ or not getattr(upload_, "filename", ""):
        form.file.errors = ["请选择文件"]
        return _nomination_page(n, evidence_form=form, status=422)
    if len(n.files) >= 10:
        form.file.errors = ["证明材料最多 10 个"]
        return _nomination_page(n, evidence_form=form, status=422)
    try:
        data, kind = read_upload(upload_, EVIDENCE_KINDS)
    except UploadError as e:
        form.file.errors = [e.message]
        return _nomination_page(n, evidence_form=form, status=422)
    stored = store_bytes(data, kind, "awards", upload_.filename)
    n.files.append(NominationFile(stored_name=stored.name, original_name=stored.original_name))
    db.session.commit()
    flash("证明材料已上传。", "success")
    return redirect(url_for("awards.nomination", nomination_id=n.id), 303)


@bp.get("/files/<int:file_id>")
@roles_required(*READERS)
def file(file_id: int):
    f = db.session.get(NominationFile, file_id)
    if f is None:
        abort(404)
    _nomination(f.nomination_id)  # the file is served only within the nomination's scope
    return send_stored(f.stored_name, download_name=f.original_name or f"材料{f.id}")


@bp.post("/nominations/<int:nomination_id>/score")
@roles_required(Role.REVIEWER)
def score(nomination_id: int):
    n = _nomination(nomination_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    points = [request.form.get(f"p{i}", "") for i in range(len(n.campaign.criteria))]
    errors = {}
    try:
        sheet = services.score(current_user, n, points)
    except AwardError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        errors[e.field or "form"] = e.message
        sheet = None
    else:
        db.session.commit()
    if is_htmx():
        return vary_hx(render_template("awards/_score.html", n=n, campaign=n.campaign, own_sheet=sheet,
                                       typed=points, score_errors=errors, can_score=True, saved=not errors),
                       422 if errors else 200)
    if errors:
        return _nomination_page(n, score_errors=errors, status=422)
    flash("评分已保存。", "success")
    return redirect(url_for("awards.nomination", nomination_id=n.id), 303)


@bp.get("/<int:campaign_id>/review")
@roles_required(Role.REVIEWER)
def review(campaign_id: int):
    """A reviewer's worklist: the recommended nominations, with their own progress."""
    campaign = _campaign(campaign_id)
    noms = list(db.session.scalars(scope.scoped(select(Nomination).where(Nomination.campaign_id == campaign.id),
                                                Nomination, current_user).order_by(Nomination.kind_id, Nomination.id)))
    mine = {s.nomination_id: s for n in noms for s in services.sheets_of(n) if s.reviewer_id == current_user.id}
    recused = {n.id for n in noms if services.must_recuse(current_user, n)}
    return render_template("awards/review.html", campaign=campaign, noms=noms, mine=mine, recused=recused)


# ---- 公示 and objections ---------------------------------------------------------------------------

def _public_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
    if campaign is None or campaign.stage != CampaignStage.NOTICE:
        abort(404)
    return campaign


allow_volunteer("awards.public")  # the 公示 page is public: a logged-in volunteer reads it too


@bp.route("/public/<int:campaign_id>", methods=["GET", "POST"])
def public(campaign_id: int):
    """The 公示 page: no login; kind, name, organization, summary — nothing personal."""
    campaign = _public_campaign(campaign_id)
    rows = services.public_rows(campaign)
    form = ObjectionForm()
    form.nomination_id.choices = [("", "（不针对具体对象）")] + [(r["id"], f"{r['kind']} · {r['name']}") for r in rows]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.raise_objection(campaign, form.nomination_id.data, form.name.data, form.contact.data,
                                         form.content.data, request.remote_addr)
            except AwardError as e:
                db.session.rollback()
                if e.status == 404:
                    abort(404)
                getattr(form, e.field or "content").errors.append(e.message)
                status = e.status
            else:
                db.session.commit()
                flash("您的异议已提交，我们将核实处理。感谢您的监督。", "success")
                return redirect(url_for("awards.public", campaign_id=campaign.id), 303)
        else:
            status = 422
    return render_template("awards/public.html", campaign=campaign, rows=rows, form=form), status


@bp.get("/<int:campaign_id>/objections")
@roles_required(Role.CITY_ADMIN)
def objections(campaign_id: int):
    campaign = _campaign(campaign_id)
    items = list(db.session.scalars(scope.scoped(select(Objection).where(Objection.campaign_id == campaign.id),
                                                 Objection, current_user).order_by(Objection.id.desc())))
    return render_template("awards/objections.html", campaign=campaign, items=items, form=ResolveForm(),
                           errors_for=None)


@bp.post("/objections/<int:objection_id>/resolve")
@roles_required(Role.CITY_ADMIN)
def resolve(objection_id: int):
    o = scope.get_scoped_or_404(Objection, objection_id, current_user, write=True)
    form = ResolveForm()
    campaign = db.session.get(Campaign, o.campaign_id)
    if form.validate_on_submit():
        try:
            services.resolve_objection(current_user, o, form.upheld.data == "1", form.outcome.data)
        except AwardError as e:
            db.session.rollback()
            form.outcome.errors.append(e.message)
        else:
            db.session.commit()
            flash("异议已处理，结果已记录。", "success")
            return redirect(url_for("awards.objections", campaign_id=o.campaign_id), 303)
    items = list(db.session.scalars(select(Objection).where(Objection.campaign_id == o.campaign_id)
                                    .order_by(Objection.id.desc())))
    return render_template("awards/objections.html", campaign=campaign, items=items, form=form,
                           errors_for=o.id), 422


# ---- certificates ----------------------------------------------------------------------------------

@bp.get("/<int:campaign_id>/certificates.pdf")
@roles_required(*OFFICE, Role.LEADER)
def certificates(campaign_id: int):
    campaign = _campaign(campaign_id)
    visible = scope.scoped(select(Nomination).where(Nomination.campaign_id == campaign.id,
                                                    Nomination.status == NominationStatus.AWARDED),
                           Nomination, current_user).order_by(Nomination.kind_id, Nomination.rank, Nomination.id)
    winners = list(db.session.scalars(visible))
    if not winners:
        flash("还没有获表彰的对象。", "error")
        return redirect(url_for("awards.detail", campaign_id=campaign.id), 303)
    data = render_pdf("awards/pdf/certificate.html", title="荣誉证书", campaign=campaign, winners=winners)
    return pdf_response(data, f"{campaign.year}_荣誉证书.pdf")


@bp.get("/nominations/<int:nomination_id>/form.pdf")
@roles_required(*READERS)
def nomination_pdf(nomination_id: int):
    """推荐表: the nomination laid out like the official recommendation form."""
    n = _nomination(nomination_id)
    facts = n.facts if n.status != NominationStatus.DRAFT else services.facts_for(n)
    data = render_pdf("awards/pdf/nomination.html", title="推荐表", campaign=n.campaign, n=n, facts=facts)
    return pdf_response(data, f"推荐表_{n.kind.name}_{n.nominee_name}.pdf")


@bp.get("/<int:campaign_id>/results.xlsx")
@roles_required(*READERS)
def results_xlsx(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not campaign.scoring_closed and current_user.role != Role.CITY_ADMIN:
        abort(403)
    return jobs.start_export("awards.results", f"导出{campaign.year}年评审结果", {"campaign_id": campaign.id})


@jobs.exporter("awards.results")
def build_results_xlsx(user, args: dict) -> jobs.Sheet:
    campaign = scope.get_scoped_or_404(Campaign, args.get("campaign_id"), user)
    if not campaign.scoring_closed and user.role != Role.CITY_ADMIN:
        raise jobs.JobError("评审尚未结束，暂不能导出结果。")
    visible = set(db.session.scalars(scope.scoped(select(Nomination.id).where(
        Nomination.campaign_id == campaign.id), Nomination, user)))
    kinds = {k.id: k for k in campaign.kinds}
    rows = []
    for kind_id, items in services.results(campaign).items():
        for r in items:
            if r.nomination.id not in visible:
                continue
            n = r.nomination
            rows.append([kinds[kind_id].name, r.rank or "", "并列" if r.tied else "", n.nominee_name, n.organization.name,
                         n.district.name if n.district else "", r.sheets, r.score if r.score is not None else "",
                         n.status.label])
    return jobs.Sheet("评审结果", ["奖项", "名次", "并列", "推荐对象", "推荐单位", "所属区", "评分人数", "平均分", "状态"], rows,
                      f"{campaign.year}_评审结果.xlsx", widths=[18, 6, 6, 30, 30, 10, 8, 8, 10])


@bp.get("/nominations/<int:nomination_id>/certificate.pdf")
@roles_required(*READERS)
def certificate(nomination_id: int):
    n = _nomination(nomination_id)
    if n.status != NominationStatus.AWARDED:
        abort(404)
    data = render_pdf("awards/pdf/certificate.html", title="荣誉证书", campaign=n.campaign, winners=[n])
    return pdf_response(data, f"荣誉证书_{n.nominee_name}.pdf")


# ---- the awards on an organization's page ----------------------------------------------------------

@register_panel("org", order=70)
def org_panel(org, user):
    """评选表彰: awards the organization won (as nominee) and what it nominated this year and before."""
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER):
        return None
    noms = list(db.session.scalars(scope.scoped(
        select(Nomination).where((Nomination.nominee_org_id == org.id) | (Nomination.organization_id == org.id),
                                 Nomination.status != NominationStatus.DRAFT), Nomination, user)
        .order_by(Nomination.id.desc()).limit(20)))
    if not noms:
        return None
    won = [n for n in noms if n.status == NominationStatus.AWARDED]
    return Panel("评选表彰", "awards/_org_panel.html", {"org": org, "won": won, "noms": noms})


@register_panel("activity", order=60)
def activity_panel(activity, user):
    """评选表彰: the project nominations that name this activity (an award shows here once decided)."""
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER):
        return None
    noms = list(db.session.scalars(scope.scoped(
        select(Nomination).where(Nomination.activity_id == activity.id, Nomination.status != NominationStatus.DRAFT),
        Nomination, user).order_by(Nomination.id.desc()).limit(20)))
    if not noms:
        return None
    return Panel("评选表彰", "awards/_activity_panel.html", {"activity": activity, "noms": noms})


# ---- dashboard ------------------------------------------------------------------------------------

@register_tile(order=640)
def awards_tile(user):
    """The running campaigns; for a reviewer, how many nominations still wait for their score
    (blueprints/awards/figures.py)."""
    from blueprints.awards.figures import running_campaigns, todo_by_campaign

    if user.role not in READERS:
        return None
    campaigns = running_campaigns(user)
    if not campaigns:
        return None
    todo = todo_by_campaign(user, campaigns)
    return Tile("评选表彰", "awards/_tile.html", {"campaigns": campaigns, "todo": todo}, url=url_for("awards.index"))
