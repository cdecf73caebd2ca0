"""Which frame to label next: uncertainty, strata and the greedy ranking, on hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from aurora_xr._times import night_of
from aurora_xr.errors import OptionError
from aurora_xr.widgets.labelranking import (
    frame_uncertainty,
    labelling_strata,
    rank_for_labelling,
)


def test_frame_uncertainty_exact() -> None:
    p = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.0, 1.0], [1.0, 0.0]], [[0.5, 0.0], [0.0, 0.0]]])
    np.testing.assert_allclose(frame_uncertainty(p), [1.0, 0.0, 0.25])
    lens = np.array([[True, False], [False, False]])
    np.testing.assert_allclose(frame_uncertainty(p, lens=lens), [1.0, 0.0, 1.0])
    q = np.array([[[0.45, 0.7], [0.55, np.nan]]])
    np.testing.assert_allclose(frame_uncertainty(q, method="margin"), [2 / 3])
    np.testing.assert_allclose(frame_uncertainty(q, method="margin", band=0.25), [1.0])
    h = -(0.7 * np.log2(0.7) + 0.3 * np.log2(0.3))
    np.testing.assert_allclose(frame_uncertainty([[0.7, 0.3]]), [h])
    assert np.isnan(frame_uncertainty(np.full((1, 2, 2), np.nan))[0])
    with pytest.raises(OptionError):
        frame_uncertainty(p, method="variance")


def test_strata_by_night_mlt_and_condition() -> None:
    times = np.array(
        ["2020-01-01T20:00", "2020-01-02T06:00", "2020-01-02T13:00", "NaT"], dtype="datetime64[ns]"
    )
    assert [str(d) for d in night_of(times)] == ["2020-01-01", "2020-01-01", "2020-01-02", "NaT"]
    # at 90 E local time is UT + 6 h: 06:00 UT is local noon, a new night
    assert [str(d) for d in night_of(times, 90.0)][:2] == ["2020-01-01", "2020-01-02"]
    strata = labelling_strata(times, mlt=[0.5, 23.9, 12.0, np.nan], mlt_bins=4,
                              conditions=["dark", "moon", "dark", "dark"])  # fmt: skip
    assert strata == [
        ("2020-01-01", 0, "dark"),
        ("2020-01-01", 3, "moon"),
        ("2020-01-02", 2, "dark"),
        ("unknown", "unknown", "dark"),
    ]
    assert labelling_strata(n=2) == [("unknown", "unknown", "unknown")] * 2


def test_rank_for_labelling_exact() -> None:
    u = [0.9, 0.8, 0.1, 0.7, 0.2, 0.95]
    strata = ["A", "A", "A", "B", "B", "C"]
    # one stratum: most uncertain first
    assert rank_for_labelling(u).tolist() == [5, 0, 1, 3, 4, 2]
    # spread: C (0.95), A (0.9), B (0.7), then second round A (0.8), B (0.2), A (0.1)
    assert rank_for_labelling(u, strata=strata).tolist() == [5, 0, 3, 1, 4, 2]
    # two frames of A labelled: B and C first, then A
    labelled = [True, True, False, False, False, False]
    assert rank_for_labelling(u, strata=strata, labelled=labelled).tolist() == [5, 3, 4, 2]
    assert rank_for_labelling(u, strata=strata, count=2).tolist() == [5, 0]
    # unscored frames come after the scored ones of their stratum
    v = [np.nan, 0.3, np.nan, 0.1]
    assert rank_for_labelling(v, strata=["a", "a", "b", "b"]).tolist() == [1, 3, 0, 2]
    assert rank_for_labelling(np.zeros(3), labelled=[True] * 3).tolist() == []
    with pytest.raises(OptionError):
        rank_for_labelling([0.1, 0.2], strata=["a"])
