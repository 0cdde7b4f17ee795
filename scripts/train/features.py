"""Audio loading and the MFCC front end shared by training and (later) the Swift port.

The exact feature definition (every librosa setting is spelled out so that a
re-implementation can match it within 1e-4):

1. Read the WAV as float64 in [-1, 1) (soundfile: int16 / 32768). Mono.
2. Pad with zeros at the end, or crop the end, to exactly 16000 samples (1 s at 16 kHz).
3. Mel power spectrogram:
   librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160,
       win_length=512, window="hann", center=True, pad_mode="constant", power=2.0,
       n_mels=40, fmin=0.0, fmax=8000.0, htk=False, norm="slaney")
   -> [40, 101]  (center=True pads 256 zeros on both sides; 1 + 16000 // 160 = 101 frames;
   the Hann window is periodic (scipy.signal.get_window("hann", 512, fftbins=True))).
4. dB: librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0), i.e.
   10*log10(max(S, 1e-10)), then clipped below at (its maximum over the whole clip) - 80.
5. DCT: librosa.feature.mfcc(S=L, n_mfcc=13, dct_type=2, norm="ortho", lifter=0),
   i.e. scipy.fft.dct(L, type=2, norm="ortho", axis=0)[:13]  -> [13, 101].
6. Per-clip, per-coefficient normalisation over the 101 frames:
   x = (m - mean) / sqrt(var + 1e-6), var the population variance (ddof=0).
7. Transpose to [101 frames, 13 coefficients] (frame-major, as the model reads it).

Steps 3-5 are exactly librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=512,
hop_length=160, n_mels=40) with librosa 0.11 defaults.
"""
from __future__ import annotations

import numpy as np
import soundfile

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
N_MFCC = 13
N_FFT = 512
HOP_LENGTH = 160
N_MELS = 40
FRAMES = 1 + CLIP_SAMPLES // HOP_LENGTH  # 101
NORM_EPS = 1e-6

FEATURE_CONFIG = {
    "kind": "mfcc",
    "sample_rate": SAMPLE_RATE,
    "n_mfcc": N_MFCC,
    "n_fft": N_FFT,
    "hop_length": HOP_LENGTH,
    "frames": FRAMES,
    "normalization": "per_clip_per_coefficient",
    # Extra detail beyond the format's required fields (see scripts/train/features.py).
    "win_length": N_FFT,
    "window": "hann",
    "center": True,
    "pad_mode": "constant",
    "power": 2.0,
    "n_mels": N_MELS,
    "fmin": 0.0,
    "fmax": 8000.0,
    "mel_htk": False,
    "mel_norm": "slaney",
    "db_ref": 1.0,
    "db_amin": 1e-10,
    "db_top_db": 80.0,
    "dct_type": 2,
    "dct_norm": "ortho",
    "lifter": 0,
    "normalization_eps": NORM_EPS,
    "clip_samples": CLIP_SAMPLES,
    "clip_pad": "zeros at end / crop end",
}


def fix_length(y: np.ndarray, n: int = CLIP_SAMPLES) -> np.ndarray:
    """Zero-pad at the end or crop the end to exactly n samples."""
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - len(y), dtype=y.dtype)])


def load_wav(path: str, resample_to: int = SAMPLE_RATE) -> np.ndarray:
    """Read a WAV file as float64 mono at 16 kHz (no length fix)."""
    y, sr = soundfile.read(path, dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    if sr != resample_to:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=resample_to)
    return y


def mfcc_raw(y: np.ndarray) -> np.ndarray:
    """Un-normalised MFCC [13, 101] of a 16000-sample float64 clip (steps 3-5 above)."""
    import librosa

    y = fix_length(np.asarray(y, dtype=np.float64))
    S = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=N_FFT,
        window="hann", center=True, pad_mode="constant", power=2.0,
        n_mels=N_MELS, fmin=0.0, fmax=8000.0, htk=False, norm="slaney",
    )
    L = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)
    return librosa.feature.mfcc(S=L, n_mfcc=N_MFCC, dct_type=2, norm="ortho", lifter=0)


def normalize(m: np.ndarray) -> np.ndarray:
    """Per-coefficient zero mean / unit variance over frames; [13, T] -> [T, 13]."""
    mean = m.mean(axis=1, keepdims=True)
    var = m.var(axis=1, keepdims=True)
    return ((m - mean) / np.sqrt(var + NORM_EPS)).T


def clip_features(y: np.ndarray) -> np.ndarray:
    """Model input [101, 13] (float64) of one clip."""
    return normalize(mfcc_raw(y))
