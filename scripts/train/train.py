"""Train an FQ-BMRU network and export it as a BMRUKit model directory.

    python -m scripts.train.train --task kws-yes --hidden 4 --blocks 2 --seed 0 \
        --out results/models/kws-yes-d4

eps schedule (leaky cell): eps = 1 for the first --anneal-start fraction of the epochs, then linear
down to 0 at --anneal-end, then 0. Only eps = 0 epochs are evaluated on validation; the best one
(highest validation accuracy, then lowest validation loss) is exported. Test data is only used for
the final report.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time

import numpy as np


def augment_option(text):
    """argparse type of --augment: data.parse_augment with its message as the argparse error."""
    from .data import parse_augment
    try:
        return parse_augment(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_args(argv=None):
    from .data import DEFAULT_AUGMENT
    from .features import FRAMES, N_MFCC
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, choices=["kws-yes", "latch-d4"])
    ap.add_argument("--hidden", type=int, default=4)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="model directory to write")
    ap.add_argument("--name", default=None, help="model name (default: basename of --out)")
    ap.add_argument("--data", default=os.environ.get(
        "BMRUKIT_DATA", "/work/shared/data/speech_commands_v0.02_test"))
    ap.add_argument("--epochs", type=int, default=None, help="default: 200 (kws), 60 (latch)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--final-lr", type=float, default=1e-4, help="cosine target after annealing")
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--clip", type=float, default=1.0, help="global gradient-norm clipping")
    ap.add_argument("--anneal-start", type=float, default=0.1)
    ap.add_argument("--anneal-end", type=float, default=0.5)
    ap.add_argument("--n-aug", type=int, default=8, help="augmented variants per training clip")
    ap.add_argument("--p-clean", type=float, default=0.25, help="chance to use the clean clip")
    ap.add_argument("--augment", type=augment_option, default=",".join(DEFAULT_AUGMENT),
                    help="waveform augmentations that make the variants (kws-yes; also the synthetic "
                         "clips): \"none\" or a comma-separated subset of speed,pitch,shift,noise "
                         "(data.augment); the default is the set the committed models were trained with")
    ap.add_argument("--specaug-time", type=int, default=0,
                    help="SpecAugment time masks of up to this many frames (kws-yes; 0 = none)")
    ap.add_argument("--specaug-freq", type=int, default=0,
                    help="SpecAugment coefficient masks of up to this many of the 13 MFCCs (kws-yes; 0 = none)")
    ap.add_argument("--specaug-masks", type=int, default=1,
                    help="masks of each kind per training clip and epoch (data.spec_augment)")
    ap.add_argument("--neg-factor", type=float, default=1.0,
                    help="negatives per positive per epoch (1 = balanced)")
    ap.add_argument("--synth", type=int, default=0,
                    help="espeak-ng synthetic clips per class in the bank (0 = none)")
    ap.add_argument("--synth-per-epoch", type=int, default=100,
                    help="synthetic clips per class added to each epoch")
    ap.add_argument("--extra-neg", default="",
                    help="comma-separated extra word folders used as training-only negatives "
                         "(e.g. go,off,on,stop,_unknown_); val/test/selection sets are unchanged")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="if > 0: exponential moving average of the parameters (decay per step), "
                         "started at the first eps = 0 epoch; the EMA parameters are the ones "
                         "evaluated, selected and exported")
    ap.add_argument("--beta-lo-min", type=float, default=0.0,
                    help="hardware-aware: smallest reset threshold beta_lo (model units; projected)")
    ap.add_argument("--alpha-min", type=float, default=0.0,
                    help="hardware-aware: smallest state current alpha (model units; projected)")
    ap.add_argument("--candidate-noise", type=float, default=0.0,
                    help="hardware-aware: Gaussian candidate noise during training (model units)")
    ap.add_argument("--delta-min", type=float, default=0.0,
                    help="hardware-aware: smallest hysteresis width delta (model units; projected; 0 = "
                         "the model's floor of 1e-3)")
    ap.add_argument("--prune-below", type=float, default=0.0,
                    help="export: set weights with |w| below this to 0, those the compiler omits (GF180: "
                         "0.0055, its smallest mirror ratio); the reported accuracies are the pruned model's")
    ap.add_argument("--readout-noise", type=float, default=0.0,
                    help="hardware-aware: Gaussian noise on every class current during training (model units)")
    ap.add_argument("--power-weight", type=float, default=0.0,
                    help="loss += W x the compiled circuit's estimated mean supply power in nW (model.power_estimate "
                         "on the training batch, at --unit-current and 1.8 V); 0 = off")
    ap.add_argument("--margin", type=float, default=0.0,
                    help="hinge on candidates within MARGIN resolutions of the threshold deciding them and on "
                         "hysteresis below MARGIN threshold errors (model.margin_penalty, the figures of bmru "
                         "model lint; lint flags below 3); 0 = off, the default: at 3 it silenced all but one "
                         "to three cells and cost validation accuracy (docs/notes/2026-12-05-power-aware-training.md)")
    ap.add_argument("--margin-weight", type=float, default=1.0, help="loss += this x the margin hinge (units)")
    ap.add_argument("--margin-mismatch", type=float, default=0.13,
                    help="relative sigma of a 1:1 mirror in the margin's resolution (GF180, docs/robustness.md)")
    ap.add_argument("--readout", default="relu", choices=["relu", "linear"],
                    help="what the classifier reads of the last residual u: ReLU(u) (default) or the signed u "
                         "(the published keyword spotter's; written as config.json \"readout\", format_version 2)")
    ap.add_argument("--scan", default="associative", choices=["associative", "scan"])
    ap.add_argument("--golden", type=int, default=8)
    ap.add_argument("--unit-current", type=float, default=None,
                    help="amperes per model unit in the circuit (default: 5e-10 for kws, the GF180 design "
                         "point of docs/design/power.md; 1e-9 for latch-d4)")
    ap.add_argument("--note", default="", help="free text stored in training.json")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if not 0 <= args.specaug_time <= FRAMES or not 0 <= args.specaug_freq <= N_MFCC or args.specaug_masks < 0:
        ap.error(f"--specaug-time must be in 0..{FRAMES} frames, --specaug-freq in 0..{N_MFCC} "
                 "coefficients, --specaug-masks >= 0")
    if args.task != "kws-yes" and (args.augment != DEFAULT_AUGMENT or specaug_on(args)):
        ap.error("--augment and --specaug-* apply to --task kws-yes only")
    return args


# ----------------------------------------------------------------------------- task adapters

class LatchTask:
    classes = ["off", "on"]
    inputs = 2
    per_frame_labels = True

    def __init__(self, args):
        from . import latch
        self.latch = latch
        self.splits = latch.load()

    def epoch(self, rng):
        x, y = self.splits["train"]
        return x.astype(np.float32), y

    def eval_set(self, split):
        return self.splits[split]

    def select_set(self):
        return self.splits["val"]

    def features(self):
        return {"kind": "raw", "frames": self.latch.T,
                "description": "channel 0: set pulses, channel 1: reset pulses (+ noise)"}

    def golden_set(self, n):
        x, y = self.splits["test"]
        return x[:n], None

    def summary(self):
        return {"generator": "scripts/train/latch.py", "split_seeds": self.latch.SPLIT_SEEDS,
                "sequences": self.latch.SPLIT_SIZES, "frames": self.latch.T,
                "labels": "per-frame"}

    def split_record(self):
        """None: the latch sequences are generated, not drawn from a data folder."""
        return None


class KwsTask:
    classes = ["yes", "other"]
    inputs = 13
    per_frame_labels = False

    def __init__(self, args):
        from . import data, features
        self.D, self.F, self.args = data, features, args
        self.extra = tuple(w for w in args.extra_neg.split(",") if w)
        self.data = data.load_kws_yes(args.data, n_aug=args.n_aug, progress=not args.no_progress,
                                      extra_words=self.extra, augment_steps=args.augment)
        self.eval_idx = {s: data.balanced_eval_indices(self.data.clips, s) for s in ["val", "test"]}
        self.pos = self.data.indices("train", "yes")
        self.synth = None
        if args.synth > 0:
            from . import synth
            self.synth = synth.load_synth(self.data, args.data, args.synth,
                                          progress=not args.no_progress, augment_steps=args.augment)

    def select_set(self):
        """All validation clips of the task's groups (unbalanced; selection uses balanced accuracy)."""
        words = {"yes", *self.D.NEGATIVE_WORDS}
        idx = [i for i in self.data.indices("val") if self.data.clips[i].word in words]
        return self.data.feats[idx], self.data.labels[idx]

    def epoch(self, rng):
        d, a = self.data, self.args
        neg = self.D.draw_train_negatives(d, int(round(len(self.pos) * a.neg_factor)), rng,
                                          self.extra)
        idx = self.pos + neg
        x = np.zeros((len(idx), self.F.FRAMES, self.F.N_MFCC), np.float32)
        for j, i in enumerate(idx):
            if rng.random() < a.p_clean:
                x[j] = d.feats[i]
            else:
                x[j] = d.aug[d.aug_index[i], rng.integers(d.aug.shape[1])]
        y = d.labels[idx]
        if self.synth is not None:
            sx, sy = self.synth
            m = a.synth_per_epoch
            pick = np.concatenate([rng.choice(np.flatnonzero(sy == k), m, replace=False)
                                   for k in (0, 1)])
            x, y = np.concatenate([x, sx[pick]]), np.concatenate([y, sy[pick]])
        return x, y

    def eval_set(self, split):
        idx = self.eval_idx[split]
        return self.data.feats[idx], self.data.labels[idx]

    def features(self):
        return dict(self.F.FEATURE_CONFIG)

    def golden_set(self, n):
        idx = self.eval_idx["test"]
        pos = [i for i in idx if self.data.labels[i] == 0][: n // 2]
        neg = [i for i in idx if self.data.labels[i] == 1][: n - len(pos)]
        sel = [v for pair in zip(pos, neg) for v in pair]
        return self.data.feats[sel], self.data.labels[sel]

    def split_record(self):
        """The clips of each split and the balanced sets, for split.json."""
        return self.D.split_record(self.args.data, self.data.clips, self.extra)

    def summary(self):
        s = self.D.split_summary(self.data, self.eval_idx)
        return {"data_path": os.path.abspath(self.args.data),
                "split_rule": self.D.__doc__.split("Split rule:")[1].split("Task")[0].strip(),
                "task_rule": "Task" + self.D.__doc__.split("Task", 1)[1].strip(),
                "splits": s, "feature_cache": self.data.info.get("cache"),
                "extra_training_negatives": (
                    {w: len(self.data.indices("train", w)) for w in self.extra} or None),
                "augmentation": {"variants_per_train_clip": self.args.n_aug,
                                 "p_clean": self.args.p_clean,
                                 "steps": list(self.args.augment),
                                 "rule": self.D.augment.__doc__,
                                 "specaug": ({"max_frames": self.args.specaug_time,
                                              "max_coefficients": self.args.specaug_freq,
                                              "masks": self.args.specaug_masks,
                                              "rule": self.D.spec_augment.__doc__}
                                             if specaug_on(self.args) else None)},
                "synthetic_speech": ({"clips_per_class_in_bank": self.args.synth,
                                      "per_class_per_epoch": self.args.synth_per_epoch,
                                      "rule": __import__("scripts.train.synth").train.synth.__doc__}
                                     if self.synth is not None else None)}


# ----------------------------------------------------------------------------- training

def specaug_on(args):
    """Whether any SpecAugment mask is drawn (--specaug-masks > 0 and a nonzero mask size)."""
    return args.specaug_masks > 0 and (args.specaug_time > 0 or args.specaug_freq > 0)


def thin_history(history, selected):
    """Every 10th epoch plus the selected and last ones, values rounded (keeps training.json small)."""
    keep = [h for h in history if h["epoch"] % 10 == 0 or h["epoch"] in (selected, len(history) - 1)]
    return [{k: (round(v, 5) if isinstance(v, float) else v) for k, v in h.items()} for h in keep]


def eps_at(epoch, epochs, a0, a1):
    f = epoch / epochs
    if f < a0:
        return 1.0
    if f >= a1:
        return 0.0
    return 1.0 - (f - a0) / (a1 - a0)


def circuit_estimate(params, s0s, x, args, unit_current):
    """The exported model's estimated supply power (model.power_estimate) and margin hinge on the
    selection set's clips at eps = 0, for training.json."""
    import jax
    import jax.numpy as jnp

    from . import model
    p = jax.tree_util.tree_map(jnp.asarray, params)
    _, sig = model.forward(p, s0s, jnp.asarray(x, jnp.float32), 0.0, method=args.scan, readout=args.readout,
                           signals=True)
    power = model.power_estimate(p, jnp.asarray(x, jnp.float32), sig, args.readout)
    nw_per_unit = unit_current * model.SUPPLY_VOLTS * 1e9
    return {"power_nW": {k: round(float(v) * nw_per_unit, 3) for k, v in power.items()},
            "unit_current": unit_current, "supply_volts": model.SUPPLY_VOLTS,
            "margin_hinge": float(model.margin_penalty(p, s0s, sig, args.margin or model.LINT_SIGMAS,
                                                       args.margin_mismatch)),
            "margin_sigmas": args.margin or model.LINT_SIGMAS, "margin_mismatch": args.margin_mismatch,
            "threshold_error_units": model.THRESHOLD_ERROR,
            "note": "on the selection set (all validation clips of the task's groups), eps = 0; power: "
                    "model.power_estimate at the unit current and 1.8 V, split as the report splits it"}


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    import jax
    import jax.numpy as jnp
    import optax
    from tqdm import tqdm

    from . import export, model, reference
    from .data import spec_augment

    task = LatchTask(args) if args.task == "latch-d4" else KwsTask(args)
    epochs = args.epochs or (60 if args.task == "latch-d4" else 200)
    rng = np.random.default_rng(args.seed)
    key = jax.random.PRNGKey(args.seed)
    params, s0s = model.init_params(key, task.inputs, args.hidden, args.blocks, len(task.classes))
    unit_current = args.unit_current or (5e-10 if args.task == "kws-yes" else 1e-9)
    nw_per_unit = unit_current * model.SUPPLY_VOLTS * 1e9
    bounded = args.beta_lo_min > 0 or args.alpha_min > 0 or args.delta_min > 0
    if bounded:
        params = model.project(params, args.beta_lo_min, args.alpha_min, args.delta_min)
    noise_key = jax.random.fold_in(key, 1)
    # The masks draw from their own generator, so that with SpecAugment on every epoch still has the
    # clips, variants and batch order of the run without it; off, nothing is drawn.
    mask_rng = np.random.default_rng([args.seed, 1])

    x0, _ = task.epoch(np.random.default_rng(0))
    steps_per_epoch = max(1, len(x0) // args.batch)
    anneal_steps = int(args.anneal_end * epochs) * steps_per_epoch
    decay_steps = max(1, epochs * steps_per_epoch - anneal_steps)
    schedule = optax.join_schedules(
        [optax.constant_schedule(args.lr),
         optax.cosine_decay_schedule(args.lr, decay_steps, alpha=args.final_lr / args.lr)],
        [anneal_steps])
    decay_mask = jax.tree_util.tree_map_with_path(
        lambda path, _: getattr(path[-1], "key", None) == "weight", params)
    opt = optax.chain(optax.clip_by_global_norm(args.clip),
                      optax.adamw(schedule, weight_decay=args.weight_decay, mask=decay_mask))
    opt_state = opt.init(params)
    fwd = functools.partial(model.forward, method=args.scan, readout=args.readout)

    circuit_terms = args.power_weight > 0 or args.margin > 0

    def loss_fn(p, x, y, eps, key):
        noise = (key, args.candidate_noise) if args.candidate_noise > 0 else None
        readout_noise = (jax.random.fold_in(key, 1), args.readout_noise) if args.readout_noise > 0 else None
        if circuit_terms:
            logits, sig = fwd(p, s0s, x, eps, noise=noise, signals=True, readout_noise=readout_noise)
        else:  # the original graph, so that runs without the new terms stay bit for bit
            logits = fwd(p, s0s, x, eps, noise=noise, readout_noise=readout_noise)
        if y.ndim == 1:
            y = jnp.broadcast_to(y[:, None], logits.shape[:2])
        logp = jax.nn.log_softmax(logits, axis=-1)
        nll = -jnp.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
        loss, power, margin = nll.mean(), jnp.float32(0), jnp.float32(0)
        # Both terms describe the hardware cell: phased in as eps anneals to 0, so that the first
        # epochs learn the task (a full power weight at eps = 1 collapses the network to chance).
        if args.power_weight > 0:
            power = model.power_estimate(p, x, sig, args.readout)["total"] * nw_per_unit
            loss = loss + (1 - eps) * args.power_weight * power
        if args.margin > 0:
            margin = model.margin_penalty(p, s0s, sig, args.margin, args.margin_mismatch)
            loss = loss + (1 - eps) * args.margin_weight * margin
        return loss, (logits, power, margin)

    @jax.jit
    def train_step(p, o, x, y, eps, key):
        (loss, aux), g = jax.value_and_grad(loss_fn, has_aux=True)(p, x, y, eps, key)
        upd, o = opt.update(g, o, p)
        p = optax.apply_updates(p, upd)
        if bounded:  # without bounds: the original update, bit for bit
            p = model.project(p, args.beta_lo_min, args.alpha_min, args.delta_min)
        return p, o, loss, aux

    @jax.jit
    def ema_step(e, p):
        return jax.tree_util.tree_map(lambda a, b: args.ema * a + (1 - args.ema) * b, e, p)

    @jax.jit
    def eval_logits(p, x):
        return fwd(p, s0s, x, 0.0)

    def balanced(logits, y):
        """Mean per-class recall of the primary decision (selection metric)."""
        if task.per_frame_labels:
            pred, yy = logits.argmax(-1).ravel(), y.ravel()
        else:
            pred = np.array([np.bincount(r, minlength=logits.shape[-1]).argmax()
                             for r in logits.argmax(-1)])
            yy = y
        return float(np.mean([np.mean(pred[yy == k] == k) for k in np.unique(yy)]))

    def metrics(logits, y):
        """(primary accuracy, secondary accuracy) for logits [N, T, C] (numpy)."""
        if task.per_frame_labels:
            pred = logits.argmax(-1)
            return float((pred == y).mean()), float((pred == y).all(axis=1).mean())
        votes = np.stack([np.bincount(r, minlength=logits.shape[-1])
                          for r in logits.argmax(-1)])
        return float((votes.argmax(-1) == y).mean()), float((logits.sum(1).argmax(-1) == y).mean())

    xv, yv = task.select_set()
    best = None
    ema = None
    history = []
    bar = tqdm(range(epochs), desc=f"{args.task} d{args.hidden}", disable=args.no_progress,
               file=sys.stdout, mininterval=2.0)
    for ep in bar:
        eps = eps_at(ep, epochs, args.anneal_start, args.anneal_end)
        x, y = task.epoch(rng)
        if specaug_on(args):
            x = spec_augment(x, mask_rng, args.specaug_time, args.specaug_freq, args.specaug_masks)
        perm = rng.permutation(len(x))
        losses, accs, powers, margins = [], [], [], []
        for b in range(steps_per_epoch):
            sel = perm[b * args.batch:(b + 1) * args.batch]
            noise_key, step_key = jax.random.split(noise_key)
            params, opt_state, loss, (logits, power, margin) = train_step(
                params, opt_state, jnp.asarray(x[sel]), jnp.asarray(y[sel]), jnp.float32(eps), step_key)
            if args.ema > 0 and eps == 0.0:
                ema = params if ema is None else ema_step(ema, params)
            losses.append(float(loss))
            powers.append(float(power))
            margins.append(float(margin))
            accs.append(metrics(np.asarray(logits), y[sel])[0])
        rec = {"epoch": ep, "eps": eps, "loss": float(np.mean(losses)), "acc": float(np.mean(accs))}
        if args.power_weight > 0:
            rec["power_nW"] = float(np.mean(powers))
        if args.margin > 0:
            rec["margin"] = float(np.mean(margins))
        if eps == 0.0:
            pe = ema if args.ema > 0 else params
            lv = np.asarray(eval_logits(pe, jnp.asarray(xv, jnp.float32)))
            va, va2 = balanced(lv, yv), metrics(lv, yv)[1]
            yy = yv if yv.ndim == 2 else np.broadcast_to(yv[:, None], lv.shape[:2])
            lp = lv - np.log(np.exp(lv - lv.max(-1, keepdims=True)).sum(-1, keepdims=True)) - lv.max(-1, keepdims=True)
            vloss = float(-np.take_along_axis(lp, yy[..., None], -1).mean())
            rec.update(val_acc=va, val_acc2=va2, val_loss=vloss)
            if best is None or (va, -vloss) > (best["val_acc"], -best["val_loss"]):
                best = dict(rec, params=jax.tree_util.tree_map(np.asarray, pe))
        history.append(rec)
        bar.set_postfix(eps=f"{eps:.2f}", loss=f"{rec['loss']:.3f}", acc=f"{rec['acc']:.3f}",
                        val=f"{rec.get('val_acc', float('nan')):.3f}",
                        best=f"{best['val_acc']:.3f}" if best else "-")
    train_seconds = time.time() - t_start

    # ---- export the best eps = 0 checkpoint; accuracies from the float64 reference
    tensors = model.to_named_tensors(best["params"], s0s)
    tensors, pruned = export.prune(tensors, args.prune_below) if args.prune_below > 0 else (tensors, [])
    p64 = reference.load_params(tensors)
    result = {}
    for split in ["val", "test"]:
        xs, ys = task.eval_set(split)
        logits = np.stack([reference.run(p64, np.asarray(xx, np.float64), args.readout)[2] for xx in xs])
        a1, a2 = metrics(logits, ys)
        names = (("frame_accuracy", "sequence_all_frames_accuracy") if task.per_frame_labels
                 else ("clip_accuracy_majority_vote", "clip_accuracy_integrated_logits"))
        result[split] = {names[0]: a1, names[1]: a2, "n": int(len(xs))}
    name = args.name or os.path.basename(os.path.normpath(args.out))
    os.makedirs(args.out, exist_ok=True)
    training_meta = {"task": args.task, "seed": args.seed, "epochs": epochs,
                     "selected_epoch": best["epoch"],
                     "loss": ("per-frame cross-entropy, per-frame labels" if task.per_frame_labels
                              else "per-frame cross-entropy with the clip label at every frame"),
                     "val_accuracy": result["val"], "test_accuracy": result["test"]}
    export.write_config(args.out, name, task.inputs, args.hidden, args.blocks, task.classes,
                        task.features(), training_meta, unit_current=unit_current, readout=args.readout)
    export.write_model(args.out, tensors)
    gx, gy = task.golden_set(args.golden)
    export.write_golden(args.out, export.golden(tensors, gx, gy, args.readout))
    import librosa
    info = {
        "name": name, "task": args.task, "seed": args.seed,
        "command": "python -m scripts.train.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "hyperparameters": {k: v for k, v in vars(args).items() if k not in ("out", "no_progress")},
        "epochs": epochs, "steps_per_epoch": steps_per_epoch,
        "selection": ("best balanced validation accuracy (mean per-class recall of the majority "
                      "vote, over all validation clips; then lowest validation loss) among eps = 0 "
                      "epochs"),
        "selected_epoch": best["epoch"],
        "selection_value": {"val_balanced_accuracy": best["val_acc"], "val_loss": best["val_loss"]},
        "note": args.note,
        "accuracy": result,
        "accuracy_note": "computed by the float64 numpy reference from the stored float32 tensors",
        "pruned_weights": pruned,
        "circuit_estimate": circuit_estimate(best["params"], s0s, xv, args, unit_current),
        "data": task.summary(),
        "duration_seconds": round(train_seconds, 1),
        "versions": {"python": platform.python_version(), "jax": jax.__version__,
                     "optax": optax.__version__, "librosa": librosa.__version__,
                     "numpy": np.__version__},
        "history_note": "every 10th epoch, the selected epoch and the last epoch",
        "history": thin_history(history, best["epoch"]),
    }
    export.write_training(args.out, info)
    split = task.split_record()
    if split is not None:
        export.write_split(args.out, split)
    print(json.dumps({"out": args.out, "selected_epoch": best["epoch"], "accuracy": result,
                      "seconds": round(train_seconds, 1)}, indent=2))


if __name__ == "__main__":
    main()
