"""Sample, grade and audit completions into a labeled dataset for stepkto-train (Step-KTO).

Example: stepkto-eval label --model CKPT --problems ../shared/data/math_train_sample.jsonl --n 4 \\
    --temperature 0.8 --judge arith+critic:vllm:/models/judge --output-dir data/round1 --round 1
Writes DIR/labeled.jsonl (and/or labeled.parquet) and DIR/summary.json; rerunning the same command resumes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .eval import _option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="generator: checkpoint folder, .gguf, hub id or server model")
    parser.add_argument("--problems", required=True, metavar="FILE_OR_TASK",
                        help="a task name / task YAML, or a problems file (.jsonl/.json with problem and answer)")
    parser.add_argument("--judge", required=True, metavar="SPEC",
                        help="step judge spec, e.g. arith, critic:hf:MODEL, prm:MODEL?family=qwen-prm, arith+critic:...")
    parser.add_argument("--output-dir", required=True, type=Path, help="run folder; rerun with it to resume")
    parser.add_argument("--data-dir", default=None, help="folder with the task's local file (env STEPKTO_DATA_DIR)")
    parser.add_argument("--n", type=int, default=4, help="completions per problem (default 4)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (default 0.8)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0)")
    parser.add_argument("--max-tokens", type=int, default=None, help="completion token limit (default 4096)")
    parser.add_argument("--limit", type=int, default=None, help="first K problems (smoke runs)")
    parser.add_argument("--round", type=int, default=None, help="iteration round stamped into every row")
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "parquet", "both"], help="output format")
    parser.add_argument("--seed", type=int, default=0, help="base seed; every sample derives its own from it")
    parser.add_argument("--batch-size", type=int, default=16, help="requests per backend call and per durable write")
    parser.add_argument("--backend", default="auto", choices=["auto", "hf", "vllm", "openai"], help="generation engine")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL (openai backend)")
    parser.add_argument("--api-key", help="API key for --base-url")
    parser.add_argument("--backend-option", "-O", action="append", type=_option, default=[], metavar="KEY=VALUE",
                        help="extra backend option, repeatable (e.g. -O device=cuda)")


def run(args: argparse.Namespace) -> int:
    from ..audit.registry import JudgeSpecError
    from ..folder_guard import EXIT_DISK, FolderRefused, disk_error
    from ..labeling import LabelConfig, run_labeling
    from ..runs import RunSettingsChanged
    from ..tasks import TaskError

    try:
        config = LabelConfig(
            model=args.model, problems=args.problems, judge=args.judge, output_dir=args.output_dir,
            backend=args.backend, base_url=args.base_url, api_key=args.api_key,
            backend_options=dict(args.backend_option), n=args.n, temperature=args.temperature, top_p=args.top_p,
            max_tokens=args.max_tokens, limit=args.limit, seed=args.seed, data_dir=args.data_dir,
            batch_size=args.batch_size, round=args.round, format=args.format,
            command=["stepkto-eval", "label", *sys.argv[2:]],
        )
        outcome = run_labeling(config, on_progress=lambda done, total: print(
            f"\rlabeled {done}/{total}", end="", file=sys.stderr, flush=True))
    except (TaskError, RunSettingsChanged, JudgeSpecError, FolderRefused, ValueError) as exc:
        print(f"stepkto-eval label: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if (message := disk_error(exc)) is None:
            raise
        print(f"stepkto-eval label: {message}", file=sys.stderr)
        return EXIT_DISK
    print(file=sys.stderr)
    for message in outcome.bad_rows:
        print(f"stepkto-eval label: skipped {message}", file=sys.stderr)
    s = outcome.summary
    share = s["correct_but_flawed"]["share"]
    print(f"rows {s['n_rows']} (desirable {s['outcomes']['desirable']}, undesirable {s['outcomes']['undesirable']}); "
          f"steps right {s['steps']['right']} / wrong {s['steps']['wrong']} / unjudged {s['steps']['unjudged']}; "
          f"correct-but-flawed {'n/a' if share is None else f'{share:.1%}'}; "
          f"duplicates dropped {s['dedup']['duplicates_dropped']}")
    print("wrote " + ", ".join(str(p) for p in [*outcome.files, outcome.folder.path / "summary.json"]))
    if s["generation_errors"]:
        print(f"stepkto-eval label: {s['generation_errors']} generation(s) failed; rerun to retry them",
              file=sys.stderr)
        return 1
    return 0
