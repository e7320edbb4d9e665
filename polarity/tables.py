"""The article's tables as data: one list of rows per table, rendered by the template and
also written as CSV (report/tables/<id>.csv) for readers who want the numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from polarity.files import atomic_write_text
from polarity.formatting import setup_label


def replication_rows(results: dict) -> list[dict]:
    r = results["replication"]
    orders, trials = r["metrics"]["answer_protocol_orders"], r["metrics"]["independent_trials"]
    return [
        {
            "encoding": encoding,
            "answer_reported": r["reference"]["answer_reported"][encoding],
            "answer_protocol_orders": orders[encoding]["n"],
            "answer_protocol_mean": orders[encoding]["mean"],
            "answer_protocol_pi95_low": orders[encoding]["pi95"][0],
            "answer_protocol_pi95_high": orders[encoding]["pi95"][1],
            "trials": trials[encoding]["n"],
            "trials_mean": trials[encoding]["mean"],
            "trials_ci95_low": trials[encoding]["ci95"][0],
            "trials_ci95_high": trials[encoding]["ci95"][1],
        }
        for encoding in ("normal", "inverted")
    ]


def background_rows(results: dict) -> list[dict]:
    return [
        {
            "dataset": name,
            "images": d["images"],
            "zero_fraction": d["zero_fraction"],
            "full_ink_fraction": d["full_ink_fraction"],
            "mean": d["mean"],
            "std": d["std"],
            "never_inked_pixels": d["never_inked_pixels"],
            "pixels": d["pixels"],
            "lenet_mean": d["lenet_scaled"]["mean"],
            "lenet_std": d["lenet_scaled"]["std"],
        }
        for name, d in results["background"]["metrics"]["datasets"].items()
    ]


def conditioning_rows(results: dict) -> list[dict]:
    encodings = results["conditioning"]["metrics"]["encodings"]
    sweep = results["sweep"]["metrics"]
    last = str(sweep["grid"]["checkpoints"][-1])
    return [
        {
            "encoding": name,
            "second_moment_lambda_max": m["second_moment_lambda_max"],
            "top_direction_mean_cosine": m["top_direction_mean_cosine"],
            "hessian_lambda_max": m["hessian_lambda_max"],
            "hessian_lambda_max_formula": m["hessian_lambda_max_formula"],
            "stability_edge": m["stability_edge"],
            "updates": int(last),
            "best_learning_rate": sweep["best"][name][last]["learning_rate"],
            "best_accuracy": sweep["best"][name][last]["mean"],
        }
        for name, m in encodings.items()
        if name in sweep["best"]
    ]


def convnet_rows(results: dict) -> list[dict]:
    rows = []
    for entry in results["convnet"]["metrics"]["setups"].values():
        for encoding, r in entry["encodings"].items():
            rows.append(
                {
                    "setup": setup_label(entry),
                    "padding": entry["padding"],
                    "batch_norm": entry["batch_norm"],
                    "optimizer": entry["optimizer"],
                    "learning_rate": entry["learning_rate"],
                    "encoding": encoding,
                    "seeds": r["final"]["n"],
                    "final_accuracy": r["final"]["mean"],
                    "final_ci95_low": r["final"]["ci95"][0],
                    "final_ci95_high": r["final"]["ci95"][1],
                    # Each seed's first update at the target, "–" where it never got there.
                    **{
                        f"updates_to_{t}": ", ".join(f"{u}" if u is not None else "–" for u in runs)
                        for t, runs in r["updates_to_reach"].items()
                    },
                }
            )
    return rows


def mismatch_rows(results: dict) -> list[dict]:
    trained = results["mismatch"]["metrics"]["trained_on"]
    return [
        {
            "trained_on": name,
            "learning_rate": entry["learning_rate"],
            "tested_on": polarity,
            "seeds": r["n"],
            "accuracy": r["mean"],
            "ci95_low": r["ci95"][0],
            "ci95_high": r["ci95"][1],
        }
        for name, entry in trained.items()
        for polarity, r in entry["tested_on"].items()
    ]


ABSORPTION_CASES = {
    "dense": "dense first layer",
    "conv_valid": "'valid' convolution",
    "conv_same_zero_padding": "'same' convolution, zero padding",
    "conv_same_background_padding": "'same' convolution, background padding",
}
MIRROR_CASES = {
    ("without_batch_norm", "running_statistics"): "no batch norm",
    ("batch_norm", "batch_statistics"): "batch norm, batch statistics",
    ("batch_norm", "running_statistics"): "batch norm, running statistics",
}


def worst_at_last_update(pair: dict, mode: str) -> tuple[float, int]:
    """A mirrored pair's largest logit difference and changed predictions after its last
    update, each at its worst seed."""
    m = pair["modes"][mode]
    return (
        max(r[-1] for r in m["max_abs_logit_difference"]),
        max(r[-1] for r in m["predictions_changed"]),
    )


def equivalence_rows(results: dict) -> list[dict]:
    """Absorption cases on one trained network each, then the mirrored pairs after their
    last update (the worst seed), in float32 and in float64."""
    metrics = results["equivalences"]["metrics"]
    rows = [
        {
            "check": "absorption",
            "case": name,
            "precision": "float32",
            "updates": None,
            "seeds": 1,
            "max_abs_logit_difference": a["max_abs_logit_difference"],
            "max_abs_logit": a["max_abs_logit"],
            "predictions_changed": a["predictions_changed"],
            "test_images": metrics["test_images"],
        }
        for case, name in ABSORPTION_CASES.items()
        for a in [metrics["absorption"][case]]
    ]
    for precision, key in (
        ("float32", "mirrored_training"),
        ("float64", "mirrored_training_float64"),
    ):
        for (pair, mode), name in MIRROR_CASES.items():
            entry = metrics[key][pair]
            difference, changed = worst_at_last_update(entry, mode)
            rows.append(
                {
                    "check": "mirrored training",
                    "case": name,
                    "precision": precision,
                    "updates": entry["updates"][-1],
                    "seeds": len(entry["modes"][mode]["max_abs_logit_difference"]),
                    "max_abs_logit_difference": difference,
                    "max_abs_logit": None,
                    "predictions_changed": changed,
                    "test_images": metrics["test_images"],
                }
            )
    return rows


def fashion_rows(results: dict) -> list[dict]:
    """Per polarity, the numbers the MNIST sections compare, measured on Fashion-MNIST."""
    m = results["fashion"]["metrics"]
    updates = m["sweep"]["grid"]["checkpoints"][-1]
    last = str(updates)
    network, *_ = m["convnet"]["setups"].values()
    rows = []
    for polarity in ("normal", "inverted"):
        trials = m["independent_trials"][polarity]
        curvature = m["conditioning"]["encodings"][polarity]
        best = m["sweep"]["best"][polarity][last]
        final = network["encodings"][polarity]["final"]
        rows.append(
            {
                "encoding": polarity,
                "trials": trials["n"],
                "trials_mean": trials["mean"],
                "trials_ci95_low": trials["ci95"][0],
                "trials_ci95_high": trials["ci95"][1],
                "hessian_lambda_max": curvature["hessian_lambda_max"],
                "stability_edge": curvature["stability_edge"],
                "sweep_updates": updates,
                "best_learning_rate": best["learning_rate"],
                "best_accuracy": best["mean"],
                "convnet_optimizer": network["optimizer"],
                "convnet_updates": network["updates"][-1],
                "convnet_accuracy": final["mean"],
                "convnet_ci95_low": final["ci95"][0],
                "convnet_ci95_high": final["ci95"][1],
            }
        )
    return rows


# Table id -> (the experiments it reads, its rows).
TABLES = {
    "tbl-background": (("background",), background_rows),
    "tbl-replication": (("replication",), replication_rows),
    "tbl-conditioning": (("conditioning", "sweep"), conditioning_rows),
    "tbl-convnet": (("convnet",), convnet_rows),
    "tbl-mismatch": (("mismatch",), mismatch_rows),
    "tbl-equivalences": (("equivalences",), equivalence_rows),
    "tbl-fashion": (("fashion",), fashion_rows),
}


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def build_tables(results: dict, out_dir: Path) -> dict[str, list[dict]]:
    """Rows of every table whose experiment has results; each also written as CSV."""
    tables = {}
    for table_id, (experiments, rows_of) in TABLES.items():
        if all(name in results for name in experiments):
            tables[table_id] = rows_of(results)
            atomic_write_text(Path(out_dir) / f"{table_id}.csv", to_csv(tables[table_id]))
    return tables
