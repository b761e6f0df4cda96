import pytest

from analysis.config import Settings


def test_settings_defaults_round_trip_and_file(tmp_path):
    s = Settings()
    assert s.overassignment == 0.10 and s.attainment_share == 0.65 and s.fiscal_year_start == 1
    assert Settings.from_dict(s.to_dict()) == s
    path = tmp_path / "s.yaml"
    path.write_text("overassignment: 0.15\nramp_schedule: [0, 0.5, 1]\n")
    loaded = Settings.from_file(path, fiscal_year_start=2)
    assert loaded.overassignment == 0.15 and loaded.ramp_schedule == (0.0, 0.5, 1.0) and loaded.fiscal_year_start == 2


def test_bad_settings_are_refused_with_the_field_named(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("over_assignment: 0.1\n")
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['over_assignment'\]"):
        Settings.from_file(path)
    with pytest.raises(ValueError, match="attainment_share must be strictly between 0 and 1") as err:
        Settings(attainment_share=1.2, fiscal_year_start=13)
    assert "fiscal_year_start must be a month 1-12" in str(err.value)
    with pytest.raises(ValueError, match="gonik_coefficients must be beta, alpha, gamma"):
        Settings.from_dict({"gonik_coefficients": [0.6, 1.2, 1.8]})
    with pytest.raises(ValueError, match="quota_type must be"):
        Settings(quota_type="calls")
    with pytest.raises(ValueError, match="max_quota_change must be a positive share"):
        Settings(max_quota_change=0)


def test_settings_from_a_notebooks_parameters():
    """A notebook passes its globals(): the settings' fields are taken, lists become tuples, the rest is ignored."""
    s = Settings.from_parameters({"draws": 500, "ramp_schedule": [0.5, 1.0], "period": "next", "analysis": object()})
    assert s.draws == 500 and s.ramp_schedule == (0.5, 1.0) and s.seed == Settings().seed
    with pytest.raises(ValueError, match="draws"):
        Settings.from_parameters({"draws": "many"})


def test_the_currency_is_a_short_symbol_or_code():
    assert Settings().currency == "" and Settings(currency="€").currency == "€" and Settings(currency="CHF").currency == "CHF"
    assert Settings.from_dict({"currency": "$"}).to_dict()["currency"] == "$"
    for bad in ("euros", "1€", " €", "<b>", 5):
        with pytest.raises(ValueError, match="currency must be"):
            Settings(currency=bad)
