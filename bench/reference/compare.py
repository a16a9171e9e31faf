"""Runs the sandbox's pressure-step benchmark and the PyTorch reference in one go, on the same
machine and thread count, and prints their throughput side by side with the ratio.

    python3 bench/reference/compare.py                 # populations 1, 8 and 16, one thread
    python3 bench/reference/compare.py --backend ndarray
    python3 bench/reference/compare.py --populations 1,2,4,8,16,32

Needs PyTorch (`pip install torch`) and builds the sandbox in release mode first. A benchmark,
not a test; CI does not run it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--populations", default="1,8,16")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--backend", default="flex", help="flex (the default) or ndarray")
    args = parser.parse_args()
    sizes = [int(p) for p in args.populations.split(",")]

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        subprocess.run([os.path.join(ROOT, "target", "release", "pressure"), "bench", "--experiments", "none",
                        "--populations", args.populations, "--steps", str(args.steps), "--backend", args.backend,
                        "--json", out], check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            ours = {t["population"]: t["seed_steps_per_second"] for t in json.load(f)["throughput"]}

    print(f"pressure step, one thread, seed-steps per second ({args.steps} timed steps):")
    print("| population | sandbox (burn, %s) | PyTorch | ratio |" % args.backend)
    print("|---|---|---|---|")
    for p in sizes:
        run = subprocess.run([sys.executable, os.path.join(HERE, "torch_step.py"), "--threads", "1",
                              "--population", str(p), "--steps", str(args.steps), "--json"],
                             check=True, capture_output=True, text=True)
        torch = json.loads(run.stdout.strip().splitlines()[-1])["seed_steps_per_second"]
        print(f"| {p} | {ours[p]:.0f} | {torch:.0f} | {ours[p] / torch:.2f}x |")


if __name__ == "__main__":
    main()
