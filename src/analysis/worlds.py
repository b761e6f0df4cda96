"""Simulated companies with a known truth, for judging the forecast and the quotas (docs/accuracy.md).

A :class:`World` is a company built from stated rules, broader than the demo: segments with their own cycles
(enterprise deals won after four to six months, lost ones ending sooner), heavy-tailed amounts, reps who differ in
how many deals they create, how often they win, how large their deals are and how fast they ramp, hiring waves and
leavers, growth, seasonality and a quarter-end push. :meth:`World.tables` is what a CRM extract of it would hold at
the as-of date; :meth:`World.truth` simulates its hidden future many times from that very state (each open deal
resolved given that it is still open at its age, the deals not yet created drawn from the reps' true rates), which
gives the true distribution of next quarter's bookings per rep, team and company. :func:`sample_spec` draws a
world's settings from broad ranges, so a benchmark can run many companies unlike each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtr, ndtri

from analysis.calendar import DAYS_PER_MONTH, next_period, period_bounds, quarter_freq

TREND_ORIGIN = "2026-01-01"  # growth is measured from this date, so a world seen earlier (World.at) keeps its rates


@dataclass(frozen=True)
class SegmentSpec:
    """How one segment's deals behave. Durations are lognormal: ``won_days`` and ``lost_days`` are medians."""

    name: str
    creation_per_month: float  # deals a fully ramped, average rep creates
    win_rate: float  # eventual chance an average rep's deal is won
    amount_median: float
    amount_sigma: float  # log-sd of amounts: 1.2 and above is heavy-tailed
    won_days: float
    lost_days: float
    won_sd: float = 0.5
    lost_sd: float = 0.8
    ramp_months: float = 4.0


@dataclass(frozen=True)
class WorldSpec:
    """A company's settings. ``segments`` with ``teams`` teams each (every team sells one segment)."""

    segments: tuple[SegmentSpec, ...]
    teams: tuple[int, ...]
    reps_per_team: int = 8
    quarters: int = 8  # quarters of history in the extract
    as_of: str = "2026-11-15"
    rate_sd: float = 0.35  # log-sd of reps' creation rates
    skill_sd: float = 0.5  # sd of reps' win skill on the log-odds scale
    size_sd: float = 0.2  # log-sd of reps' typical deal size
    ramp_sd: float = 0.3  # log-sd of reps' ramp length
    leavers_per_year: float = 0.2  # share of reps leaving a year (each replaced about a month later)
    wave: float = 0.0  # a hiring wave: extra reps, as a share of the sales force
    wave_months_ago: float = 4.0  # when the wave was hired
    growth: float = 0.0  # yearly growth of creation
    season: float = 0.1  # amplitude of the month-of-year pattern in creation
    peak_month: int = 3
    rush: float = 0.3  # share of won deals due in a quarter's first three weeks closed in the last week before
    mix: float = 1.0  # share of a team's deals in its own segment (the rest spread evenly over the others)
    seed: int = 0
    name: str = "world"


def sample_spec(seed: int, quarters: int | None = None, name: str | None = None) -> WorldSpec:
    """A world's settings drawn from broad ranges (seeded): two or three segments, one of them long-cycle with
    heavy-tailed amounts, between about 30 and 110 reps."""
    rng = np.random.default_rng([seed, 2026])
    segs = [
        SegmentSpec(
            "SMB",
            float(rng.uniform(8, 18)),
            float(rng.uniform(0.25, 0.40)),
            float(rng.uniform(4e3, 9e3)),
            float(rng.uniform(0.5, 0.8)),
            float(rng.uniform(15, 35)),
            float(rng.uniform(20, 45)),
            ramp_months=float(rng.uniform(2, 4)),
        ),
        SegmentSpec(
            "Enterprise",
            float(rng.uniform(1.5, 3.5)),
            float(rng.uniform(0.15, 0.30)),
            float(rng.uniform(5e4, 1.5e5)),
            float(rng.uniform(1.0, 1.5)),
            float(rng.uniform(120, 180)),
            float(rng.uniform(60, 110)),
            won_sd=float(rng.uniform(0.3, 0.5)),
            ramp_months=float(rng.uniform(5, 9)),
        ),
    ]
    if rng.random() < 0.6:
        segs.insert(
            1,
            SegmentSpec(
                "Mid-Market",
                float(rng.uniform(4, 8)),
                float(rng.uniform(0.2, 0.35)),
                float(rng.uniform(1.5e4, 3e4)),
                float(rng.uniform(0.7, 1.0)),
                float(rng.uniform(45, 80)),
                float(rng.uniform(40, 80)),
                ramp_months=float(rng.uniform(3, 6)),
            ),
        )
    teams = tuple(int(rng.integers(1, 4)) for _ in segs)
    return WorldSpec(
        segments=tuple(segs),
        teams=teams,
        reps_per_team=int(rng.integers(6, 13)),
        quarters=quarters if quarters is not None else int(rng.choice([6, 8, 10, 12])),
        as_of=str((pd.Timestamp("2026-09-30") + pd.Timedelta(days=int(rng.integers(0, 46)))).date()),
        rate_sd=float(rng.uniform(0.2, 0.5)),
        skill_sd=float(rng.uniform(0.3, 0.8)),
        size_sd=float(rng.uniform(0.1, 0.35)),
        ramp_sd=float(rng.uniform(0.1, 0.4)),
        leavers_per_year=float(rng.uniform(0.1, 0.35)),
        wave=float(rng.choice([0.0, 0.0, 0.2, 0.35])),
        wave_months_ago=float(rng.uniform(1, 9)),
        growth=float(rng.uniform(-0.1, 0.4)),
        season=float(rng.uniform(0.0, 0.25)),
        peak_month=int(rng.integers(1, 13)),
        rush=float(rng.uniform(0.0, 0.4)),
        mix=float(rng.choice([1.0, 0.9, 0.8, 0.7])),
        seed=seed,
        name=name or f"world {seed}",
    )


def _ramp(tenure_months: np.ndarray, ramp_months: np.ndarray) -> np.ndarray:
    """Share of full pace after ``tenure_months``: linear over ``ramp_months``, then 1."""
    return np.clip((np.asarray(tenure_months, dtype=float) + 0.5) / ramp_months, 0.0, 1.0)


def _lognormal_sf(days: np.ndarray, median: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(duration > days) for a lognormal duration."""
    with np.errstate(divide="ignore"):
        z = (np.log(np.maximum(days, 1e-9)) - np.log(median)) / sd
    return np.where(days <= 0, 1.0, 1.0 - ndtr(z))


@dataclass
class World:
    """One simulated company (see the module's docstring); build with :func:`build`."""

    spec: WorldSpec
    reps: pd.DataFrame  # rep_id, team, segment, hire_date, end_date and the hidden traits
    deals: pd.DataFrame  # every deal created up to the as-of date with its hidden outcome
    _truth: dict = field(default_factory=dict, repr=False)

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.spec.as_of)

    @property
    def period(self) -> str:
        return next_period(self.as_of)

    def tables(self, target_stretch: float = 1.05) -> dict[str, pd.DataFrame]:
        """The extract at the as-of date, in the data contract's columns: reps, opportunities and the company's and
        teams' targets for the next quarter (``target_stretch`` × the true mean)."""
        d, as_of = self.deals, np.datetime64(self.as_of.date())
        closed = d["close"].to_numpy() <= as_of
        opps = pd.DataFrame(
            {
                "opportunity_id": d["opportunity_id"],
                "owner_id": d["rep_id"],
                "created_date": d["created"],
                "close_date": d["close"].where(closed),
                "status": np.where(closed, np.where(d["won"], "won", "lost"), "open"),
                "amount": d["amount"],
                "segment": d["segment"],
            }
        )
        reps = self.reps[["rep_id", "team", "hire_date", "end_date"]].assign(name=self.reps["rep_id"].str.replace("R", "Rep "))
        truth = self.truth()
        team_mean = truth.team.mean(axis=1)
        targets = pd.concat(
            [
                pd.DataFrame(
                    {"period": [self.period], "team": [None], "target": [round(float(truth.company.mean()) * target_stretch, -3)]}
                ),
                pd.DataFrame({"period": self.period, "team": team_mean.index, "target": (team_mean.to_numpy() * target_stretch).round(-3)}),
            ],
            ignore_index=True,
        )
        return {"reps": reps, "opportunities": opps, "targets": targets}

    def at(self, as_of: str | pd.Timestamp) -> World:
        """The same company seen at an earlier date: deals created by then, leaving dates after it unknown."""
        as_of = pd.Timestamp(as_of)
        reps = self.reps.assign(end_date=self.reps["end_date"].where(self.reps["end_date"] <= as_of))
        return World(spec=replace(self.spec, as_of=str(as_of.date())), reps=reps, deals=self.deals[self.deals["created"] <= as_of])

    def realised(self, period: str) -> pd.Series:
        """What each rep really booked in ``period`` (deals created up to this world's as-of date)."""
        lo, hi = period_bounds(period)
        d = self.deals[self.deals["won"] & (self.deals["close"] >= lo) & (self.deals["close"] <= hi)]
        return d.groupby("rep_id")["amount"].sum().reindex(self.reps["rep_id"], fill_value=0.0)

    def truth(self, draws: int = 1000, seed: int = 1) -> Truth:
        """Next quarter's bookings, simulated ``draws`` times from the state at the as-of date (cached)."""
        key = (draws, seed)
        if key not in self._truth:
            self._truth[key] = _simulate_future(self, draws, np.random.default_rng([self.spec.seed, seed, 77]))
        return self._truth[key]


@dataclass
class Truth:
    """True draws of next quarter's bookings: ``rep`` (active reps × draws), ``team`` and ``company``."""

    rep: pd.DataFrame
    team: pd.DataFrame
    company: np.ndarray
    sources: pd.DataFrame | None = None  # per rep (all, left ones too): team, segment, mean from open deals and from new ones


def _rush(close: np.ndarray, floor: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Won deals due in a quarter's first three weeks, closed instead in the last week before it (with
    probability ``share``), when that is still after ``floor`` (creation, or the as-of date for open deals)."""
    if share <= 0 or not len(close):
        return close
    q_start = pd.DatetimeIndex(close).to_period(quarter_freq(1)).start_time.to_numpy().astype("datetime64[D]")
    pulled = q_start - rng.integers(1, 8, len(close)).astype("timedelta64[D]")
    move = ((close - q_start) < np.timedelta64(21, "D")) & (rng.random(len(close)) < share) & (pulled > floor)
    return np.where(move, pulled, close)


def build(spec: WorldSpec) -> World:
    """Simulate the company's history up to its as-of date."""
    rng = np.random.default_rng([spec.seed, 11])
    as_of = pd.Timestamp(spec.as_of)
    start = (as_of.to_period("Q").start_time - pd.DateOffset(months=3 * spec.quarters)).normalize()
    years = (as_of - start).days / 365.25
    rows = []
    for s, (seg, n_teams) in enumerate(zip(spec.segments, spec.teams, strict=True)):
        for t in range(n_teams):
            for _ in range(spec.reps_per_team):
                rows.append(
                    {"team": f"{seg.name} {t + 1}", "seg": s, "hire": start - pd.Timedelta(days=int(rng.integers(60, 1500))), "end": pd.NaT}
                )
    base = pd.DataFrame(rows)
    # Leavers, each replaced in the same team about a month later; then a hiring wave.
    leave = rng.random(len(base)) < min(0.9, spec.leavers_per_year * years)
    span = max((as_of - start).days - 20, 2)
    base.loc[leave, "end"] = [start + pd.Timedelta(days=int(d)) for d in rng.integers(1, span, int(leave.sum()))]
    repl = base[leave].assign(hire=lambda f: f["end"] + pd.to_timedelta(rng.integers(14, 60, len(f)), unit="D"), end=pd.NaT)
    repl = repl[repl["hire"] < as_of]
    n_wave = int(round(spec.wave * len(base)))
    wave_day = as_of - pd.Timedelta(days=int(spec.wave_months_ago * DAYS_PER_MONTH))
    wave = (
        base.sample(n_wave, random_state=int(rng.integers(1 << 31)), replace=True).assign(
            hire=[wave_day + pd.Timedelta(days=int(d)) for d in rng.integers(-10, 10, n_wave)], end=pd.NaT
        )
        if n_wave
        else base.iloc[0:0]
    )
    wave = wave[wave["hire"] < as_of]
    reps = pd.concat([base, repl, wave], ignore_index=True)
    n = len(reps)
    segs = spec.segments
    reps["rep_id"] = [f"R{i + 1:04d}" for i in range(n)]
    reps["segment"] = [segs[s].name for s in reps["seg"]]
    reps["rate"] = np.array([segs[s].creation_per_month for s in reps["seg"]]) * rng.lognormal(-(spec.rate_sd**2) / 2, spec.rate_sd, n)
    reps["skill"] = rng.normal(0.0, spec.skill_sd, n)
    reps["size"] = rng.lognormal(-(spec.size_sd**2) / 2, spec.size_sd, n)
    reps["ramp_months"] = np.array([segs[s].ramp_months for s in reps["seg"]]) * rng.lognormal(0.0, spec.ramp_sd, n)
    reps["hire_date"] = reps["hire"].where(rng.random(n) > 0.1).astype("datetime64[us]")  # some old hands lack a hire date
    reps.loc[reps["hire"] >= start, "hire_date"] = reps.loc[reps["hire"] >= start, "hire"]
    reps["end_date"] = pd.to_datetime(reps["end"]).astype("datetime64[us]")
    deals = _create(spec, reps, start, as_of, rng)
    deals.insert(0, "opportunity_id", [f"O{i + 1:07d}" for i in range(len(deals))])
    return World(spec=spec, reps=reps.drop(columns=["hire", "end"]), deals=deals)


def _daily_rates(spec: WorldSpec, reps: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Expected deals created per rep and day (reps × days): rate × ramp × season × growth, while employed."""
    d = days.to_numpy()
    hire = reps["hire"].to_numpy()
    end = pd.to_datetime(reps["end"]).fillna(pd.Timestamp("2262-01-01")).to_numpy()
    tenure = ((d[None, :] - hire[:, None]) / np.timedelta64(1, "D")) / DAYS_PER_MONTH
    ramp = _ramp(tenure, reps["ramp_months"].to_numpy()[:, None])
    employed = (d[None, :] >= hire[:, None]) & (d[None, :] < end[:, None])
    season = 1.0 + spec.season * np.cos(2 * np.pi * (days.month.to_numpy() - spec.peak_month) / 12)
    trend = (1.0 + spec.growth) ** (((d - np.datetime64(TREND_ORIGIN)) / np.timedelta64(1, "D")) / 365.25)
    return reps["rate"].to_numpy()[:, None] / DAYS_PER_MONTH * ramp * employed * (season * trend)[None, :]


def _win_chance(spec: WorldSpec, reps: pd.DataFrame, seg: np.ndarray | int | None = None) -> np.ndarray:
    """Each rep's chance to win a deal of segment ``seg`` (default: the rep's own), their skill on the log-odds."""
    s = reps["seg"].to_numpy() if seg is None else np.broadcast_to(seg, len(reps))
    base = np.array([x.win_rate for x in spec.segments])[s]
    return expit(logit(base) + reps["skill"].to_numpy())


def _segment_shares(spec: WorldSpec, home: np.ndarray) -> np.ndarray:
    """Share of each rep's deals in each segment (reps × segments): ``mix`` at home, the rest spread evenly."""
    k = len(spec.segments)
    if k == 1:
        return np.ones((len(home), 1))
    out = np.full((len(home), k), (1.0 - spec.mix) / (k - 1))
    out[np.arange(len(home)), home] = spec.mix
    return out


def _create(spec: WorldSpec, reps: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range(start, as_of, freq="D")
    lam = _daily_rates(spec, reps, days)
    counts = rng.poisson(lam)
    rep_idx, day_idx = np.nonzero(counts)
    k = counts[rep_idx, day_idx]
    rep_idx, day_idx = np.repeat(rep_idx, k), np.repeat(day_idx, k)
    created = days.to_numpy().astype("datetime64[D]")[day_idx]
    shares = _segment_shares(spec, reps["seg"].to_numpy())[rep_idx]
    seg = (rng.random(len(rep_idx))[:, None] > np.cumsum(shares, axis=1)).sum(axis=1).clip(0, len(spec.segments) - 1)
    base = np.array([s.win_rate for s in spec.segments])[seg]
    p = expit(logit(base) + reps["skill"].to_numpy()[rep_idx])
    won = rng.random(len(rep_idx)) < p
    won_med = np.array([s.won_days for s in spec.segments])[seg]
    lost_med = np.array([s.lost_days for s in spec.segments])[seg]
    won_sd = np.array([s.won_sd for s in spec.segments])[seg]
    lost_sd = np.array([s.lost_sd for s in spec.segments])[seg]
    z = rng.standard_normal(len(rep_idx))
    dur = np.where(won, won_med * np.exp(won_sd * z), lost_med * np.exp(lost_sd * z))
    close = created + np.maximum(np.ceil(dur), 1).astype("int64").astype("timedelta64[D]")
    close = np.where(won, _rush(close, created, spec.rush, rng), close)
    med = np.array([s.amount_median for s in spec.segments])[seg] * reps["size"].to_numpy()[rep_idx]
    sig = np.array([s.amount_sigma for s in spec.segments])[seg]
    amount = np.maximum(np.round(med * np.exp(sig * rng.standard_normal(len(rep_idx))), -1), 10.0)
    return pd.DataFrame(
        {
            "rep_id": reps["rep_id"].to_numpy()[rep_idx],
            "segment": np.array([s.name for s in spec.segments])[seg],
            "created": pd.to_datetime(created),
            "close": pd.to_datetime(close),
            "won": won,
            "amount": amount,
        }
    )


def _simulate_future(world: World, draws: int, rng: np.random.Generator) -> Truth:
    """The truth: next quarter's bookings per active rep, ``draws`` times (see the module's docstring)."""
    spec, reps = world.spec, world.reps.copy()
    as_of = world.as_of
    as_of_d = np.datetime64(as_of.date())
    p_start, p_end = period_bounds(world.period)
    lo, hi = np.datetime64(p_start.date()), np.datetime64(p_end.date())
    reps["hire"] = reps["hire_date"].fillna(as_of - pd.Timedelta(days=3650))
    reps["end"] = reps["end_date"]
    reps["seg"] = reps["segment"].map({s.name: i for i, s in enumerate(spec.segments)})
    active = (reps["end_date"].isna() | (reps["end_date"] > as_of)).to_numpy()
    ids = reps["rep_id"].to_numpy()
    index = {r: i for i, r in enumerate(ids)}
    out = np.zeros((len(reps), draws))
    seg_index = {s.name: i for i, s in enumerate(spec.segments)}
    won_med = np.array([s.won_days for s in spec.segments])
    won_sd = np.array([s.won_sd for s in spec.segments])
    lost_med = np.array([s.lost_days for s in spec.segments])
    lost_sd = np.array([s.lost_sd for s in spec.segments])
    # Open deals: won given still open at age a, then the won duration given it exceeds a.
    d = world.deals
    open_ = d[d["close"] > as_of]
    if len(open_):
        r = open_["rep_id"].map(index).to_numpy()
        s = open_["segment"].map(seg_index).to_numpy()
        age = (as_of - open_["created"]).dt.days.to_numpy(dtype=float)
        p_deal = expit(logit(np.array([x.win_rate for x in spec.segments])[s]) + reps["skill"].to_numpy()[r])
        sw, sl = _lognormal_sf(age, won_med[s], won_sd[s]), _lognormal_sf(age, lost_med[s], lost_sd[s])
        p = p_deal * sw / np.maximum(p_deal * sw + (1 - p_deal) * sl, 1e-300)
        created = open_["created"].to_numpy().astype("datetime64[D]")
        amount = open_["amount"].to_numpy(dtype=float)
        for j in range(draws):
            w = rng.random(len(r)) < p
            lower = ndtr((np.log(np.maximum(age[w], 1e-9)) - np.log(won_med[s[w]])) / won_sd[s[w]])
            u = lower + (1 - lower) * rng.random(int(w.sum()))
            dur = won_med[s[w]] * np.exp(won_sd[s[w]] * ndtri(np.clip(u, 1e-12, 1 - 1e-12)))
            close = created[w] + np.maximum(np.ceil(dur), age[w] + 1).astype("int64").astype("timedelta64[D]")
            close = _rush(close, np.full(len(close), as_of_d), spec.rush, rng)
            inside = (close >= lo) & (close <= hi)
            np.add.at(out[:, j], r[w][inside], amount[w][inside])
    from_open = out.mean(axis=1)
    # Deals not yet created: won ones closing inside the quarter are Poisson per rep and segment (thinning), amounts drawn.
    days = pd.date_range(as_of + pd.Timedelta(days=1), p_end, freq="D")
    created = _daily_rates(spec, reps, days) * active[:, None]
    shares = _segment_shares(spec, reps["seg"].to_numpy())
    age_lo = ((lo - days.to_numpy().astype("datetime64[D]")) / np.timedelta64(1, "D")).astype(float)
    age_hi = ((hi - days.to_numpy().astype("datetime64[D]")) / np.timedelta64(1, "D")).astype(float)
    # Won inside [lo, hi] before the push; the push then moves a share of the first three weeks' closes of the
    # next quarter in, and of this quarter's out (to before it), which the day-by-day sum below accounts for.
    new_count = np.zeros(len(reps))
    for si, segment in enumerate(spec.segments):
        cdf = lambda a, si=si: 1.0 - _lognormal_sf(np.asarray(a, dtype=float), won_med[si], won_sd[si])  # noqa: E731 - P(duration ≤ a)
        inside = cdf(age_hi) - cdf(age_lo - 1)
        first_weeks = cdf(age_lo + 20) - cdf(age_lo - 1)
        next_first = cdf(age_hi + 21) - cdf(age_hi)
        # pulled out only if the pulled date (1-7 days before lo) is after creation: created before lo - k
        k_ok_out = np.clip((age_lo - 1) / 7.0, 0.0, 1.0)
        q = np.clip(inside - spec.rush * first_weeks * k_ok_out + spec.rush * next_first, 0.0, 1.0)
        m = (created * q[None, :]).sum(axis=1) * shares[:, si] * _win_chance(spec, reps, si)
        new_count += m
        counts = rng.poisson(m[:, None], size=(len(reps), draws))
        total = int(counts.sum())
        if total:
            rep_idx = np.repeat(np.repeat(np.arange(len(reps)), draws), counts.ravel())
            draw_idx = np.repeat(np.tile(np.arange(draws), len(reps)), counts.ravel())
            med = segment.amount_median * reps["size"].to_numpy()
            amounts = np.maximum(np.round(med[rep_idx] * np.exp(segment.amount_sigma * rng.standard_normal(total)), -1), 10.0)
            np.add.at(out, (rep_idx, draw_idx), amounts)
    rep = pd.DataFrame(out[active], index=pd.Index(ids[active], name="rep_id"))
    team = pd.DataFrame(out, index=reps["team"].to_numpy()).groupby(level=0).sum()
    sources = pd.DataFrame(
        {
            "rep_id": ids,
            "team": reps["team"].to_numpy(),
            "segment": reps["segment"].to_numpy(),
            "active": active,
            "open": from_open,
            "new": out.mean(axis=1) - from_open,
            "new_count": new_count,
        }
    )
    return Truth(rep=rep, team=team, company=out.sum(axis=0), sources=sources)
