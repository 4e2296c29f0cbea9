"""The Step-KTO replica on CPU: M0 → M1 → M2 → M3, KTO (α = 0) beside Step-KTO (α = 1), with the product's commands.

    python benchmarks/replica/run.py            # full: 3 rounds, 200 held-out problems
    python benchmarks/replica/run.py --quick    # 1 round, fewer problems; last stdout line is a JSON summary
    python benchmarks/replica/run.py --eval-split valid --arms stepkto --rounds 1 --lr 2e-6 --name sweep-a
                                                # choose settings on the validation split, never on held-out

Stages (each skipped when its output exists, so a rerun continues):
  1. data     seeded word problems (problems.py) → OUT/data: warm-up, training pool, validation, held-out
              test, and task YAMLs for the last three
  2. M0       SmolLM2-135M-Instruct after a short supervised warm-up (warmup.py) → runs/replica-m0/...;
              evaluated on the validation split (the split the warm-up length was chosen on)
  3. loop     both arms start from the same M0 with the same seeds, so round 0's evaluation and round 1's
              labeled samples are identical: they run once (the commands `iterate` would run, side by side)
              and every arm's run folder records them as done (copies + state.json). Then each arm runs
              `stepkto-train iterate --config OUT/recipe_<arm>.yaml`, the two arms side by side.
  4. compare  `stepkto-eval compare` of each arm's last round against M0 on the held-out set (exact McNemar)
  5. results  RESULTS/replica{-quick}.json, .md (rounds table) and .png (pass@1 and flawed-step rate)

Held-out evaluation is greedy (pass@1 = avg@1 there); the labeling stage samples n per training problem at
temperature 0.8, and its accuracy is reported as the training pool's avg@n of the model that sampled it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from problems import write_splits  # noqa: E402
from warmup import WarmupConfig, warm_up  # noqa: E402

ARMS = {"kto": 0.0, "stepkto": 1.0}  # arm -> α


@dataclass
class Plan:
    sizes: dict[str, int]  # generated rows per split (the same seeded files in both modes)
    train_problems: int  # training-pool problems labeled per round
    test_problems: int  # held-out problems evaluated
    valid_problems: int  # validation problems M0 is evaluated on
    rounds: int
    n: int = 4  # samples per training problem
    eval_split: str = "test"  # "valid" evaluates every round on the validation split (for choosing settings)
    arms: tuple[str, ...] = tuple(ARMS)
    max_tokens: int = 96
    warmup_steps: int = 20
    warmup_lr: float = 3e-4
    seed: int = 0
    train: dict = field(default_factory=lambda: {
        "use_cpu": True, "beta": 0.1, "auto_weights": True, "learning_rate": 2.0e-5,
        "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1, "num_train_epochs": 1,
        "max_length": 384, "logging_steps": 4, "save_strategy": "no", "report_to": "none", "seed": 0,
    })


SIZES = {"warmup": 1500, "train": 200, "valid": 100, "test": 200}
# Sized for the shared 2-core box (a training step on 4 rows takes ~1 min there under load).
FULL = Plan(sizes=SIZES, train_problems=8, test_problems=200, valid_problems=0, rounds=3)
QUICK = Plan(sizes=SIZES, train_problems=4, test_problems=40, valid_problems=0, rounds=1)


def sh(cmd: list[str], log: Path) -> int:
    """Run one product command, its output appended to `log` (the experiment's stdout stays for the summary)."""
    with open(log, "a") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO).returncode


def recipe(plan: Plan, out: Path, arm: str, m0: Path, data: dict[str, Path], rounds: int) -> dict:
    return {
        "run_dir": str(out / arm), "model": str(m0), "rounds": rounds,
        "label": {"problems": str(data["train"]), "judge": "arith", "backend": "hf", "n": plan.n,
                  "temperature": 0.8, "max_tokens": plan.max_tokens, "limit": plan.train_problems,
                  "batch_size": 64, "seed": plan.seed},
        "eval": {"tasks": str(data[plan.eval_split]), "backend": "hf", "max_tokens": plan.max_tokens,
                 "limit": plan.test_problems if plan.eval_split == "test" else plan.sizes["valid"],
                 "audit": "arith", "batch_size": 100, "seed": plan.seed},
        "train": {**plan.train, "alpha": ARMS[arm], "ref_cache_dir": str(out / arm / "refcache")},
    }


def run_parallel(jobs: list[tuple[list[str], Path]]) -> list[int]:
    """Run independent product commands side by side, each logging to its own file. Each gets its own
    session: with the kernel's autogroup scheduling a session is the unit of CPU sharing, so two arms in one
    session would split one share of a busy shared box instead of running side by side."""
    procs = []
    for cmd, log in jobs:
        fh = open(log, "a")
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        procs.append((subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True), fh))
    codes = []
    for proc, fh in procs:
        codes.append(proc.wait())
        fh.close()
    return codes


SHARED = ("round_0/eval", "round_1/label")  # identical in both arms: same M0, same seeds, same options


def run_shared_stages(loops: dict) -> int:
    """Round 0's evaluation and round 1's samples, computed once (side by side) with the exact commands
    `iterate` would run, then recorded as done in every arm's state.json (the other arms get copies)."""
    first, *others = loops.values()
    state = first.load_state()
    commands = dict(first.stages())
    todo = [name for name in SHARED if name not in state["done"]]
    root = first.recipe.run_dir
    root.mkdir(parents=True, exist_ok=True)
    codes = run_parallel([(commands[name], root / f"{name.replace('/', '_')}.log") for name in todo])
    if any(codes):
        return max(codes)
    state["done"] += todo
    first.save_state(state)
    for loop in others:
        other = loop.load_state()
        for name in SHARED:
            if name not in other["done"]:
                shutil.rmtree(loop.recipe.run_dir / name, ignore_errors=True)
                shutil.copytree(root / name, loop.recipe.run_dir / name)
                other["done"].append(name)
        loop.recipe.run_dir.mkdir(parents=True, exist_ok=True)
        loop.save_state(other)
    return 0


def metrics_of(eval_dir: Path) -> dict:
    task = next(iter(json.loads((eval_dir / "metrics.json").read_text())["tasks"].values()))
    pass1, flawed = task["metrics"]["pass@1"], task.get("flawed_step_rate") or {}
    return {"pass1": pass1["value"], "pass1_ci": [pass1["ci_low"], pass1["ci_high"]],
            "flawed": flawed.get("value"), "flawed_ci": [flawed.get("ci_low"), flawed.get("ci_high")],
            "flawed_counts": {k: v for k, v in flawed.items() if k.startswith("n_")}}


def label_counts(label_dir: Path) -> dict:
    s = json.loads((label_dir / "summary.json").read_text())
    return {"rows": s["n_rows"], "outcomes": s["outcomes"], "steps": s["steps"], "verdicts": s["verdicts"],
            "correct_but_flawed": s["correct_but_flawed"], "truncated": s["truncated"]}


def train_pool_accuracy(label_dir: Path) -> float | None:
    """avg@n of the sampling model on the training pool (all samples, before dedup)."""
    ok = total = 0
    for line in (label_dir / "samples.jsonl").read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            total += 1
            ok += bool(rec.get("correct"))
    return ok / total if total else None


_CLAIM = re.compile(r"(-?\d+)\s*([-+*/x×])\s*(\d+)\s*=\s*(-?\d+)(?![\d.])")


def independent_verdict(step: str) -> int | None:
    """A second, deliberately simple reader of this task's step format: 1 if every `a op b = c` in the step
    is true, 0 if one is false, None if the step has no such claim. Used to measure how exact the `arith`
    judge's labels are on this task (steps without a claim are counted apart)."""
    claims = _CLAIM.findall(step)
    if not claims:
        return None
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "x": lambda a, b: a * b,
           "×": lambda a, b: a * b, "/": lambda a, b: Fraction(a, b) if b else None}
    return int(all(ops[op](int(a), int(b)) == int(c) for a, op, b, c in claims))


def label_check(label_dir: Path) -> dict:
    """Agreement of the exported step labels with `independent_verdict`, over judged steps."""
    counts = {"agree": 0, "judge_1_regex_0": 0, "judge_0_regex_1": 0, "no_claim_judged": 0, "unjudged": 0}
    examples: list[dict] = []
    for line in (label_dir / "labeled.jsonl").read_text().splitlines():
        row = json.loads(line)
        for step, label in zip(row["steps"], row["step_labels"], strict=True):
            if label is None:
                counts["unjudged"] += 1
                continue
            mine = independent_verdict(step)
            if mine is None:
                counts["no_claim_judged"] += 1
            elif mine == label:
                counts["agree"] += 1
            else:
                key = "judge_1_regex_0" if label == 1 else "judge_0_regex_1"
                counts[key] += 1
                if len(examples) < 10:
                    examples.append({"step": step, "judge": label, "regex": mine})
    return {**counts, "disagreements": examples}


def compare_arm(out: Path, arm: str, last: int, log: Path) -> dict:
    report = out / arm / f"compare_m0_m{last}.json"
    sh([sys.executable, "-m", "stepkto_eval.cli", "compare", "--baseline", str(out / arm / "round_0" / "eval"),
        "--run", str(out / arm / f"round_{last}" / "eval"), "--json", str(report)], log)
    return json.loads(report.read_text())[0]


def compare_arms(out: Path, last: int, log: Path) -> dict:
    """Step-KTO's round `last` against KTO's round `last` on the same held-out items (paired)."""
    report = out / f"compare_kto_vs_stepkto_m{last}.json"
    sh([sys.executable, "-m", "stepkto_eval.cli", "compare", "--baseline", str(out / "kto" / f"round_{last}" / "eval"),
        "--run", str(out / "stepkto" / f"round_{last}" / "eval"), "--json", str(report)], log)
    return json.loads(report.read_text())[0]


def collect(plan: Plan, out: Path, n_rounds: int, log: Path) -> dict:
    arms: dict[str, dict] = {}
    for arm in plan.arms:
        rounds = []
        for k in range(n_rounds + 1):
            folder = out / arm / f"round_{k}"
            if not (folder / "eval" / "metrics.json").is_file():
                break
            row = {"round": k, **metrics_of(folder / "eval")}
            if k:
                row["labels"] = label_counts(folder / "label")
                row["train_pool_avg_at_n"] = train_pool_accuracy(folder / "label")
                row["label_check"] = label_check(folder / "label")
                summary = folder / "model" / "stepkto_train.json"
                if summary.is_file():
                    row["train_loss"] = json.loads(summary.read_text())["metrics"].get("train_loss")
            rounds.append(row)
        last = len(rounds) - 1
        arms[arm] = {"alpha": ARMS[arm], "rounds": rounds,
                     "compare_m0_vs_last": compare_arm(out, arm, last, log) if last > 0 else None}
    return arms


def write_outputs(results: dict, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(rounds_table(results))
    plot(results, stem.with_suffix(".png"))


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _ci(ci: list) -> str:
    return "" if None in ci else f" [{_pct(ci[0])}, {_pct(ci[1])}]"


def rounds_table(results: dict) -> str:
    split = "validation" if results["plan"].get("eval_split") == "valid" else "held-out"
    lines = [f"| arm | round | {split} pass@1 % [95% CI] | flawed-step rate among correct % [95% CI] | "
             "train-pool avg@n % | labeled rows (desirable / undesirable) | step labels (right / wrong / unjudged) |",
             "|---|---|---|---|---|---|---|"]
    for arm, entry in results["arms"].items():
        for r in entry["rounds"]:
            lab = r.get("labels")
            rows = f"{lab['outcomes']['desirable']} / {lab['outcomes']['undesirable']}" if lab else ""
            steps = " / ".join(str(lab["steps"].get(k, "")) for k in ("right", "wrong", "unjudged")) if lab else ""
            lines.append(f"| {arm} (α={entry['alpha']:g}) | M{r['round']} | {_pct(r['pass1'])}{_ci(r['pass1_ci'])} | "
                         f"{_pct(r['flawed'])}{_ci(r['flawed_ci'])} | {_pct(r.get('train_pool_avg_at_n'))} | "
                         f"{rows} | {steps} |")
    arms = results.get("compare_kto_vs_stepkto_last")
    if arms:
        lines.append(f"\nstepkto − kto at the last round on {split} pass@1 = {100 * arms['difference']:+.1f} points "
                     f"[{100 * arms['ci_low']:+.1f}, {100 * arms['ci_high']:+.1f}], {arms['test']} p = "
                     f"{arms['p_value']:.4f} (discordant {arms['discordant']})")
    for arm, entry in results["arms"].items():
        c = entry["compare_m0_vs_last"]
        if c:
            lines.append(f"\n{arm}: M{len(entry['rounds']) - 1} − M0 on {split} pass@1 = {100 * c['difference']:+.1f} points "
                         f"[{100 * c['ci_low']:+.1f}, {100 * c['ci_high']:+.1f}], {c['test']} p = {c['p_value']:.4f} "
                         f"(discordant {c['discordant']})")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    colors = {"kto": "tab:blue", "stepkto": "tab:red"}
    for arm, entry in results["arms"].items():
        color = colors[arm]
        rounds = entry["rounds"]
        for ax, key in zip(axes, ("pass1", "flawed"), strict=True):
            pts = [(r["round"], r[key], r[f"{key}_ci"]) for r in rounds if r[key] is not None]
            if not pts:
                continue
            xs = [p[0] + (0.04 if arm == "stepkto" else -0.04) for p in pts]
            ys = [100 * p[1] for p in pts]
            err = [[100 * (p[1] - p[2][0]) for p in pts], [100 * (p[2][1] - p[1]) for p in pts]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, color=color, label=f"{arm} (α={entry['alpha']:g})")
    split = "validation" if results["plan"].get("eval_split") == "valid" else "held-out"
    axes[0].set_title(f"{split} pass@1 (greedy), %")
    axes[1].set_title("flawed-step rate among correct, %")
    for ax in axes:
        ax.set_xlabel("round (M_k)")
        ax.set_xticks(range(max(len(e["rounds"]) for e in results["arms"].values())))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round on fewer problems (about 15 minutes)")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default runs/replica[-quick])")
    parser.add_argument("--results", type=Path, default=REPO / "leaderboards" / "replica",
                        help="folder for the results JSON, table and plot (default leaderboards/replica)")
    parser.add_argument("--base-model", default=str(REPO / ".cache" / "models" / "smollm2-135m-instruct"),
                        help="SmolLM2-135M-Instruct folder (tests/helpers/smollm2.py builds it from the wheel)")
    parser.add_argument("--m0-cache", type=Path, default=REPO / "runs" / "replica-m0",
                        help="folder of warmed-up M0 models, shared by the quick and the full mode")
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP/MKL threads of every stage (on a shared, oversubscribed box 1 wastes least)")
    parser.add_argument("--m0", default=None, help="use this model folder as M0 instead of the warm-up")
    parser.add_argument("--train-problems", type=int, default=None, help="override the plan's training problems")
    parser.add_argument("--test-problems", type=int, default=None, help="override the plan's held-out problems")
    parser.add_argument("--n", type=int, default=None, help="override the plan's samples per training problem")
    parser.add_argument("--rounds", type=int, default=None,
                        help="override the plan's rounds (a finished run grows by the new rounds only)")
    parser.add_argument("--lr", type=float, default=None, help="override the training learning rate (2e-5)")
    parser.add_argument("--epochs", type=float, default=None, help="override the training epochs per round (1)")
    parser.add_argument("--desirable-ratio", type=float, default=None,
                        help="λ_D·n_D / λ_U·n_U of each round's training (1 = the class balance; >1 weighs "
                             "desirable rows more)")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=None, help="run only these arms")
    parser.add_argument("--eval-split", choices=["test", "valid"], default="test",
                        help="split every round is evaluated on: 'valid' (all its problems) is for choosing "
                             "settings without looking at the held-out test split")
    parser.add_argument("--name", default=None,
                        help="stem of the result files in RESULTS (default replica, replica-quick)")
    parser.add_argument("--m0-only", action="store_true", help="stop once M0 is warmed up (fills --m0-cache)")
    parser.add_argument("--collect-only", action="store_true",
                        help="only (re)write the results from the rounds that finished in OUT")
    parser.add_argument("--data-only", action="store_true", help="stop after writing the data and task files")
    args = parser.parse_args(argv)
    plan = replace(QUICK if args.quick else FULL)
    for name in ("train_problems", "test_problems", "n", "rounds", "arms"):
        if getattr(args, name) is not None:
            setattr(plan, name, tuple(args.arms) if name == "arms" else getattr(args, name))
    plan.eval_split = args.eval_split
    overrides = {"learning_rate": args.lr, "num_train_epochs": args.epochs, "desirable_ratio": args.desirable_ratio}
    plan.train = {**plan.train, **{k: v for k, v in overrides.items() if v is not None}}
    if args.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)  # inherited by every stage's subprocess
    out = (args.out or REPO / "runs" / ("replica-quick" if args.quick else "replica")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "commands.log"
    started = out / "started.json"  # the wall time counts from the first launch, across reruns
    if not started.is_file():
        started.write_text(json.dumps({"time": time.time()}))
    t0 = json.loads(started.read_text())["time"]

    data = write_splits(out / "data", plan.sizes, seed=plan.seed, max_tokens=plan.max_tokens)
    if args.data_only:
        print(json.dumps({k: str(v) for k, v in data.items()}))
        return 0
    if args.collect_only:
        return finish(args, plan, out, log, t0, m0_name=None)
    m0 = Path(args.m0).resolve() if args.m0 else warm_up(WarmupConfig(base_model=args.base_model, data=data["warmup"],
                              output_dir=args.m0_cache / f"warmup{plan.warmup_steps}-lr{plan.warmup_lr:g}-seed{plan.seed}",
                              max_steps=plan.warmup_steps, learning_rate=plan.warmup_lr, seed=plan.seed))
    print(f"[replica] M0 ready ({time.time() - t0:.0f}s): {m0}", file=sys.stderr, flush=True)
    if args.m0_only:
        return 0
    if plan.valid_problems:
        vdir = out / "m0_valid"
        if sh([sys.executable, "-m", "stepkto_eval.cli", "eval", "--model", str(m0), "--tasks", str(data["valid"]),
               "--backend", "hf", "--max-tokens", str(plan.max_tokens), "--limit", str(plan.valid_problems),
               "--audit", "arith", "--batch-size", "64", "--output-dir", str(vdir)], log) == 0:
            print(f"[replica] M0 validation pass@1 {metrics_of(vdir)['pass1']:.3f}", file=sys.stderr, flush=True)

    from stepkto_train.iterate import Loop, Recipe

    loops = {}
    for arm in plan.arms:
        path = out / f"recipe_{arm}.yaml"
        path.write_text(yaml.safe_dump(recipe(plan, out, arm, m0, data, plan.rounds), sort_keys=False))
        loops[arm] = Loop(Recipe.load(path))
    code = run_shared_stages(loops)
    print(f"[replica] shared stages (M0 eval, round-1 samples): exit {code} ({time.time() - t0:.0f}s)",
          file=sys.stderr, flush=True)
    if code:
        return code
    codes = run_parallel([([sys.executable, "-m", "stepkto_train.cli", "iterate", "--config", str(out / f"recipe_{arm}.yaml")],
                           out / f"{arm}.log") for arm in plan.arms])
    print(f"[replica] arms {dict(zip(plan.arms, codes, strict=True))} ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    return finish(args, plan, out, log, t0, m0_name=m0.name)


def portable_argv(argv: list[str]) -> list[str]:
    """The command line as recorded in the results: absolute paths (this machine's folders) shortened to
    their last part, so the committed files name no local path."""
    return [Path(a).name if os.path.isabs(a) else a for a in argv]


def finish(args: argparse.Namespace, plan: Plan, out: Path, log: Path, t0: float, m0_name: str | None) -> int:
    """Results of the rounds that finished (each arm up to its last evaluated round), then the summary line."""
    vdir = out / "m0_valid"
    results = {"mode": "quick" if args.quick else "full", "plan": asdict(plan), "argv": portable_argv(sys.argv[1:]), "m0": m0_name,
               "m0_validation": metrics_of(vdir) if (vdir / "metrics.json").is_file() else None,
               "arms": collect(plan, out, plan.rounds, log), "wall_seconds": round(time.time() - t0, 1)}
    last = min(len(e["rounds"]) for e in results["arms"].values()) - 1
    both = set(ARMS) <= set(results["arms"])
    results["compare_kto_vs_stepkto_last"] = compare_arms(out, last, log) if last > 0 and both else None
    write_outputs(results, args.results / (args.name or ("replica-quick" if args.quick else "replica")))
    step_cmp = results["arms"].get("stepkto", {}).get("compare_m0_vs_last")
    print(json.dumps({"arms": {arm: {"pass1": [r["pass1"] for r in e["rounds"]],
                                     "flawed": [r["flawed"] for r in e["rounds"]]}
                               for arm, e in results["arms"].items()},
                      "p_stepkto_m0_vs_last": step_cmp["p_value"] if step_cmp else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
