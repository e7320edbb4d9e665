"""Fashion-MNIST, judged and drawn with the MNIST sections' code."""


def test_fashion_figures_count_each_part_s_own_seeds(all_results):
    """The Fashion-MNIST result holds the seeds of all its parts; the convnet figure must
    describe the convnet's seeds only."""
    from polarity.report import FIGURES
    from polarity.report.output import figure_entries

    fashion = all_results["fashion"]
    spec = next(f for f in FIGURES if f.id == "fig-fashion-convnet-curves")
    ((_, _, entry),) = figure_entries((spec,), {"fashion": fashion}, None)
    assert f"mean of {fashion['config']['convnet_n_seeds']} seeds" in entry["alt"]
