"""A tiny two-stage "training" that writes a cptui run log with cptui_log.RunLog (no torch needed).

    python3 integrations/example_write.py OUT.jsonl [--nan]

Used by the tests (Tests/CLITests/ExportCLITests.swift) and by validate_log.py; the shape of a real
PyTorch loop is in docs/integrations.md.
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cptui_log import RunLog  # noqa: E402


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: example_write.py OUT.jsonl [--nan]")
    out = sys.argv[1]
    with_nan = "--nan" in sys.argv
    tokens_per_step = 1024
    steps_per_stage = 50
    datasets = ["english", "german"]
    with RunLog(out, run_name="python <helper> & co", datasets=datasets,
                config={"name": "python-helper", "seed": 7}, seed=7,
                command=sys.argv, machine={"threads": 1}) as log:
        step = 0
        for stage in (1, 2):
            log.stage_start(stage, dataset=datasets[stage - 1], steps=steps_per_stage,
                            lr_max=3e-4, lr_min=3e-5, name=datasets[stage - 1],
                            tokens=steps_per_stage * tokens_per_step, start_step=step,
                            start_tokens=step * tokens_per_step, schedule="cosine",
                            warmup_fraction=0.02, replay_percent=25.0 if stage == 2 else 0.0,
                            replay_from=["english"] if stage == 2 else [],
                            optimizer_state="reset")
            if stage == 1:
                log.eval(stage=1, step=0, tokens=0, losses={"english": 6.0, "german": 6.1})
            for stage_step in range(1, steps_per_stage + 1):
                step += 1
                loss = 6.0 * math.exp(-step / 40) + 2.0
                if with_nan and step == 30:
                    loss = float("nan")
                log.step(stage=stage, step=step, stage_step=stage_step,
                         tokens=step * tokens_per_step, lr=3e-4, loss=loss, grad_norm=0.5)
                if step % 10 == 0:
                    d0 = 2.0 + 4.0 * math.exp(-step / 20) + (0.3 if stage == 2 else 0.0)
                    d1 = 6.1 - (stage_step / steps_per_stage * 2.0 if stage == 2 else 0.5)
                    if with_nan and step == 20:
                        d1 = float("nan")
                    log.eval(stage=stage, step=step, tokens=step * tokens_per_step,
                             losses={"english": d0, "german": d1})
            log.stage_end(stage, step=step, tokens=step * tokens_per_step)
            log.checkpoint(f"ckpt/stage-{stage}.safetensors", step=step, stage=stage)
        log.note("done\twith a tab", step=step)
        log.run_end("completed", step=step, tokens=step * tokens_per_step)


if __name__ == "__main__":
    main()
