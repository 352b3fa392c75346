"""Deep video steganography library: everything that is not a network.

Modules:
    metrics: PSNR, SSIM and MSE on uint8 images (and PSNR on tensors for training logs).
    imageio: reading and writing images, lossless-only output.
    videoio: streaming video reading and lossless video writing.
    cipher: key-derived block-shuffle scrambling of secrets.
    data: training data generators (``keras.utils.PyDataset``).
    enhance: non-local-means denoising (temporal on videos) and unsharp masking.
    inference: running the split hide/reveal networks on arbitrary-size images.
    cli: shared command-line flags and error handling for the scripts.
"""

__version__ = "0.1.0"
