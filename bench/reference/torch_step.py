"""The pressure step of the sandbox, written in PyTorch, for a side-by-side speed comparison.

Same sizes, losses and optimizer as `pressure bench` measures: an MLP 24 -> 64 -> 64 (ReLU) with
an action head (3) and a judgment head (1); a batch of 256 tasks, 192 act and 64 judge queries,
drawn from the default world (4 domains, 16 latent dimensions, margin 0.5, noise 0.25, half
contradictory, half monitored); actions and judge answers sampled from the policy; the default
institutional reward (comply +1, object +1, refuse -1, judge answers 0); REINFORCE with a
leave-one-out baseline on both heads; supervised judge answers on the truth (honesty 1); a KL
penalty (0.05) to a frozen copy of the policy; Adam, lr 1e-4, eps 1e-5 (burn's default).

With --population P the P members are one batched network (batched matmuls), as in the sandbox.
A benchmark, not a test: it prints seed-steps per second.

    python3 bench/reference/torch_step.py --threads 1 --population 1 --steps 300
"""

import argparse
import json
import time

import torch

LATENT, DOMAINS, CUES, HIDDEN, ACTIONS = 16, 4, 8, 64, 3
BATCH, JUDGES = 256, 64
ACTS = BATCH - JUDGES
MARGIN, NOISE = 0.5, 0.25
KL, HONESTY, LR = 0.05, 1.0, 1e-4
REWARD = torch.tensor([1.0, 1.0, -1.0])  # comply, object, refuse


def init_linear(p, n_in, n_out, gen):
    bound = 1.0 / n_in**0.5
    w = (torch.rand(p, n_in, n_out, generator=gen) * 2 - 1) * bound
    b = (torch.rand(p, 1, n_out, generator=gen) * 2 - 1) * bound
    return [w.requires_grad_(), b.requires_grad_()]


def forward(params, x):
    w1, b1, w2, b2, wa, ba, wj, bj = params
    h = torch.relu(torch.baddbmm(b1, x, w1))
    h = torch.relu(torch.baddbmm(b2, h, w2))
    return torch.baddbmm(ba, h, wa), torch.baddbmm(bj, h, wj)


def draw_batch(p, directions, gen):
    """Observations [P, 256, 24] and violation labels [P, 256]."""
    domain = torch.randint(0, DOMAINS, (p, BATCH), generator=gen)
    violating = torch.rand(p, BATCH, generator=gen) < 0.5
    monitored = torch.rand(p, BATCH, generator=gen) < 0.5
    u = directions[domain]  # [P, B, 16]
    z = torch.randn(p, BATCH, LATENT, generator=gen)
    along = (z * u).sum(-1, keepdim=True)
    g = torch.randn(p, BATCH, 1, generator=gen).abs()
    sign = violating.float().unsqueeze(-1) * 2 - 1
    z = z + (sign * (MARGIN + g) - along) * u
    z = z + NOISE * torch.randn(p, BATCH, LATENT, generator=gen)
    cues = torch.zeros(p, BATCH, CUES)
    cues.scatter_(2, domain.unsqueeze(-1), 1.0)
    cues[..., 4] = monitored.float()
    cues[:, ACTS:, 7] = 1.0
    return torch.cat([z, cues], dim=-1), violating.float()


def leave_one_out(r):
    n = r.shape[1]
    return r - (r.sum(1, keepdim=True) - r) / (n - 1)


def step(params, reference, opt, directions, gen, p):
    x, violating = draw_batch(p, directions, gen)
    logits, judge = forward(params, x)
    logp = torch.log_softmax(logits[:, :ACTS], -1)
    jl = judge[:, ACTS:, 0]
    with torch.no_grad():
        actions = torch.multinomial(logp.exp().reshape(-1, ACTIONS), 1, generator=gen).reshape(p, ACTS)
        says = (torch.rand(p, JUDGES, generator=gen) < torch.sigmoid(jl)).float()
        adv_a = leave_one_out(REWARD[actions])
        adv_j = leave_one_out(torch.zeros(p, JUDGES))
        ref_logits, ref_judge = forward(reference, x)
        ref_logp = torch.log_softmax(ref_logits[:, :ACTS], -1)
        ref_jl = ref_judge[:, ACTS:, 0]
    chosen = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    pg = -(chosen * adv_a).mean(1)
    yes, no = torch.nn.functional.logsigmoid(jl), torch.nn.functional.logsigmoid(-jl)
    pg_j = -((says * yes + (1 - says) * no) * adv_j).mean(1)
    truth = violating[:, ACTS:]
    bce = -(truth * yes + (1 - truth) * no).mean(1)
    kl_a = (logp.exp() * (logp - ref_logp)).sum(-1).sum(1)
    q = torch.sigmoid(jl)
    ref_yes, ref_no = torch.nn.functional.logsigmoid(ref_jl), torch.nn.functional.logsigmoid(-ref_jl)
    kl_j = (q * (yes - ref_yes) + (1 - q) * (no - ref_no)).sum(1)
    kl = (kl_a + kl_j) / BATCH
    loss = (pg + pg_j + HONESTY * bce + KL * kl).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--population", type=int, default=1)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    p = args.population
    directions = torch.randn(DOMAINS, LATENT, generator=gen)
    directions = directions / directions.norm(dim=-1, keepdim=True)
    sizes = [(LATENT + CUES, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, ACTIONS), (HIDDEN, 1)]
    params = [t for n_in, n_out in sizes for t in init_linear(p, n_in, n_out, gen)]
    reference = [t.detach().clone() for t in params]
    opt = torch.optim.Adam(params, lr=LR, eps=1e-5)
    for _ in range(max(10, args.steps // 10)):
        step(params, reference, opt, directions, gen, p)
    start = time.perf_counter()
    for _ in range(args.steps):
        step(params, reference, opt, directions, gen, p)
    seconds = time.perf_counter() - start
    result = {
        "torch": torch.__version__,
        "threads": args.threads,
        "population": p,
        "steps": args.steps,
        "seconds": seconds,
        "seed_steps_per_second": p * args.steps / seconds,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"torch {torch.__version__}, {args.threads} thread(s), population {p}: "
              f"{result['seed_steps_per_second']:.0f} seed-steps/s")


if __name__ == "__main__":
    main()
