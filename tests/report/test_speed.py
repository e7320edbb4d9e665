"""Is the 0 background a speed-up? The speed claim."""

from polarity.article import judge as evaluate


def test_speed_claim_follows_the_measured_times(all_results):
    all_results["speed"]["metrics"]["convnet"]["encodings"]["inverted"]["mean"] *= 2
    claim = evaluate(all_results)["zeros_buy_no_speed"]
    assert not claim["holds"]
    assert claim["statement"].startswith("Time per training update differs")
