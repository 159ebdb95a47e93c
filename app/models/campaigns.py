"""Campaigns (评选活动), their categories (评选类别) and each category's rubric (评分细则)."""
import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import db
from .audit import Audited


class Kind(enum.StrEnum):
    PROJECT = "project"
    STORY = "story"
    CASE = "case"
    SOCIAL_WORKER = "social_worker"
    HOTLINE = "hotline"
    REPORT = "report"  #: only collects submissions by a deadline: no review, vote or ranking


class Aggregation(enum.StrEnum):
    MEAN = "mean"
    TRIMMED = "trimmed"
    ZSCORE = "zscore"


class TallyVisibility(enum.StrEnum):
    LIVE = "live"
    RANKING_ONLY = "ranking_only"
    AFTER_CLOSE = "after_close"


#: The windows of a campaign, in the order a campaign runs through them.
PHASES = ("nomination", "review", "voting")


class Windowed:
    """Open/close datetimes per phase: ``nomination_opens``, ``nomination_closes`` and so on.

    A category's windows are optional ("announced in batches"); empty means the campaign's.
    """

    nomination_opens: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nomination_closes: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_opens: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_closes: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opens: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closes: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def window(self, phase):
        return getattr(self, f"{phase}_opens"), getattr(self, f"{phase}_closes")


class Campaign(Audited, Windowed, db.Model):
    """An award campaign: a theme, a time zone, windows, categories."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("objection_days >= 0", name="objection_days_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    theme: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    #: Shown on the public site; a campaign being prepared stays hidden.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Length of the objection window (异议期) after a provisional publication (公示).
    objection_days: Mapped[int] = mapped_column(Integer, default=7)
    #: The fraud signals' thresholds where the campaign departs from the defaults
    #: (``voting.fraud.Thresholds``): {name: number}, set on the vote monitoring page.
    fraud_thresholds: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    categories: Mapped[list["Category"]] = relationship(
        back_populates="campaign",
        order_by="Category.position, Category.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self):
        return f"<Campaign {self.slug}>"

    @property
    def tz(self):
        return ZoneInfo(self.timezone)

    def local(self, moment):
        """``moment`` (aware) in the campaign's time zone."""
        return moment.astimezone(self.tz) if moment else None

    def phase_states(self, now):
        """[(phase, state)] of the phases its categories have, over all of them: "open" where
        one category's window is open, else "upcoming" where one is still to open, else
        "closed" (or "none" where no category has dates for it)."""
        states = []
        for phase in PHASES:
            found = {category.phase_state(phase, now) for category in self.categories
                     if category.has_phase(phase)}
            if found:
                states.append((phase, next(state for state in ("open", "upcoming", "closed",
                                                                "none") if state in found)))
        return states


class Category(Audited, Windowed, db.Model):
    """A selection inside a campaign, e.g. the 20 outstanding social workers."""

    __tablename__ = "category"
    __audit_exclude__ = frozenset({"last_number"})
    __table_args__ = (
        UniqueConstraint("campaign_id", "key"),
        UniqueConstraint("campaign_id", "number_prefix"),
        CheckConstraint("winners >= 1", name="winners_positive"),
        CheckConstraint("expert_weight >= 0 AND expert_weight <= 1", name="expert_weight_range"),
        CheckConstraint("public_weight >= 0 AND public_weight <= 1", name="public_weight_range"),
        CheckConstraint(
            "expert_weight + public_weight > 0.9999 AND expert_weight + public_weight < 1.0001",
            name="weights_sum_to_one",
        ),
        CheckConstraint("reviewers_per_entry >= 0", name="reviewers_non_negative"),
        CheckConstraint("votes_per_day >= 0", name="votes_per_day_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[Kind] = mapped_column(enum_type(Kind))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Prefix of the entries' public numbers, e.g. "SW" for SW-007.
    number_prefix: Mapped[str] = mapped_column(String(8))
    #: Minimum number of winners; ties at the boundary can make more.
    winners: Mapped[int] = mapped_column(Integer, default=10)
    expert_weight: Mapped[float] = mapped_column(Float, default=1.0)
    public_weight: Mapped[float] = mapped_column(Float, default=0.0)
    aggregation: Mapped[Aggregation] = mapped_column(enum_type(Aggregation), default=Aggregation.MEAN)
    reviewers_per_entry: Mapped[int] = mapped_column(Integer, default=3)
    #: Votes one voter may cast per day in this category.
    votes_per_day: Mapped[int] = mapped_column(Integer, default=1)
    tally_visibility: Mapped[TallyVisibility] = mapped_column(
        enum_type(TallyVisibility), default=TallyVisibility.LIVE
    )
    #: Experts see neither the agency nor the names in the entry.
    blind_review: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last public number given in this category (numbers are never reused).
    last_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    campaign: Mapped[Campaign] = relationship(back_populates="categories")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="category",
        order_by="Criterion.position, Criterion.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self):
        return f"<Category {self.key} of campaign {self.campaign_id}>"

    @classmethod
    def by_keys(cls, slug, key):
        """Category ``key`` of the campaign ``slug``, or None."""
        return db.session.scalar(db.select(cls).join(Campaign).where(
            Campaign.slug == slug, cls.key == key))

    @property
    def has_review(self):
        return self.kind != Kind.REPORT and self.expert_weight > 0

    @property
    def has_public_vote(self):
        return self.kind != Kind.REPORT and self.public_weight > 0

    def has_phase(self, phase):
        return phase == "nomination" or (
            self.has_review if phase == "review" else self.has_public_vote
        )

    def window(self, phase):
        """Effective (opens, closes) of a phase: the category's own, else the campaign's."""
        opens, closes = Windowed.window(self, phase)
        campaign_opens, campaign_closes = self.campaign.window(phase)
        return opens or campaign_opens, closes or campaign_closes

    def phase_state(self, phase, now):
        """"none", "upcoming", "open" or "closed" for ``phase`` at ``now``."""
        if not self.has_phase(phase):
            return "none"
        opens, closes = self.window(phase)
        if opens is None or closes is None:
            return "none"
        if now < opens:
            return "upcoming"
        return "open" if now < closes else "closed"

    def is_open(self, phase, now):
        return self.phase_state(phase, now) == "open"

    def current_phases(self, now):
        """The phases open at ``now`` (review and voting may overlap)."""
        return [phase for phase in PHASES if self.is_open(phase, now)]

    @property
    def max_points(self):
        return sum(criterion.max_points for criterion in self.criteria)


class Criterion(Audited, db.Model):
    """One line of a category's rubric: a name, what it means, its maximum points."""

    __tablename__ = "criterion"
    __table_args__ = (CheckConstraint("max_points >= 1", name="max_points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[int] = mapped_column(Integer)

    category: Mapped[Category] = relationship(back_populates="criteria")
