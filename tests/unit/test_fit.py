"""Fits of Eq. 1 / Eq. 2 (morpho.fit) against PHYSICS.md 4.4's recovery cases (V17)."""

import numpy as np
import pytest

from morpho.errors import InputError
from morpho.fit import fit_rho

T = np.geomspace(0.06, 1.0, 40)


def _insulating(rng):
    rho = 1.0 / (1 / 300e3 + (1 / 2e3) * np.exp(-0.45 / T))
    return rho * np.exp(0.01 * rng.standard_normal(T.size))


def _superconducting(rng):
    rho = 800.0 + 20e3 * np.exp(-1.5 / T)
    return rho * np.exp(0.01 * rng.standard_normal(T.size))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eq1_recovers_the_insulating_parameters(seed):
    fit = fit_rho(T, _insulating(np.random.default_rng(seed)), model="insulating")
    assert 1 / fit.params["sigma_qf_S"] == pytest.approx(300e3, rel=0.05)
    assert 1 / fit.params["sigma_0_S"] == pytest.approx(2e3, rel=0.06)
    assert fit.params["activation_energy_K"] == pytest.approx(0.45, rel=0.05)
    assert fit.rms_log_residual == pytest.approx(0.01, rel=0.3)
    assert fit.saturation_resolved
    assert fit.delta_bic_arrhenius > 10
    # The standard errors are honest: the truth lies within 4 of them.
    assert abs(fit.params["activation_energy_K"] - 0.45) < 4 * fit.stderr["activation_energy_K"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eq2_recovers_the_superconducting_parameters(seed):
    fit = fit_rho(T, _superconducting(np.random.default_rng(seed)), model="superconducting")
    assert fit.params["rho_qf_ohm"] == pytest.approx(800.0, rel=0.05)
    assert fit.params["rho_0_ohm"] == pytest.approx(20e3, rel=0.06)
    assert fit.params["activation_energy_K"] == pytest.approx(1.5, rel=0.05)
    assert abs(fit.params["rho_qf_ohm"] - 800.0) < 4 * fit.stderr["rho_qf_ohm"]


def test_auto_picks_the_right_equation_and_predict_reproduces_the_data():
    rng = np.random.default_rng(5)
    ins, sc = _insulating(rng), _superconducting(rng)
    assert fit_rho(T, ins).model == "insulating"
    fit = fit_rho(T, sc)
    assert fit.model == "superconducting"
    assert np.abs(np.log(fit.predict(T) / sc)).max() < 0.05


def test_an_unsaturated_curve_is_flagged():
    """Pure Arrhenius data: the QF term is not resolved and the activated law is as good."""
    rho = 1e3 * np.exp(0.5 / T) * np.exp(0.01 * np.random.default_rng(3).standard_normal(T.size))
    fit = fit_rho(T, rho, model="insulating")
    assert not fit.saturation_resolved
    assert fit.delta_bic_arrhenius < 2
    assert fit.params["activation_energy_K"] == pytest.approx(0.5, rel=0.02)


def test_soft_l1_resists_outliers():
    rho = _insulating(np.random.default_rng(4))
    rho[[2, 9, 30]] *= [3.0, 0.3, 4.0]
    plain = fit_rho(T, rho, model="insulating")
    robust = fit_rho(T, rho, model="insulating", loss="soft_l1")
    assert 1 / plain.params["sigma_qf_S"] > 1.3 * 300e3  # least squares is dragged off (471 kOhm)
    assert 1 / robust.params["sigma_qf_S"] == pytest.approx(300e3, rel=0.05)
    assert robust.params["activation_energy_K"] == pytest.approx(0.45, rel=0.05)


@pytest.mark.parametrize(
    ("t", "rho", "kwargs", "needle"),
    [
        (T, -np.ones(T.size), {}, "> 0"),
        (T[:4], np.ones(4), {}, "at least 5"),
        (T, np.ones(T.size - 1), {}, "different lengths"),
        (T, np.ones(T.size), {"model": "metallic"}, "model must be"),
        (T, np.ones(T.size), {"loss": "huber"}, "loss must be"),
    ],
)
def test_bad_input_is_named(t, rho, kwargs, needle):
    with pytest.raises(InputError, match=needle):
        fit_rho(t, rho, **kwargs)
