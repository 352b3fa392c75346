"""Deep video steganography library: everything that is not a network.

Modules:
    metrics: PSNR, SSIM and MSE on uint8 images: every reported number.
    losses: the training loss and the PSNR/SSIM training logs (Keras tensors).
    imageio: reading and writing images, lossless-only output.
    videoio: streaming video reading and lossless, verified video writing.
    cipher: key-derived block-shuffle scrambling of secrets.
    data: training data generators (``keras.utils.PyDataset``).
    enhance: non-local-means denoising (temporal on videos) and unsharp masking.
    inference: running the split hide/reveal networks on arbitrary-size images.
    engines: Keras or OpenVINO (bf16 where the CPU has it), and the converted-network cache.
    imagesteg, videosteg: hiding and revealing image files and videos (what the scripts run).
    pipeline: decoding, the network and encoding of a video at the same time.
    webapp: the Gradio web app.
    steganalysis: detectors of containers (rich-model features, a CNN, the chi-square attack).
    channels: lossy channels (JPEG, WebP, H.264, resizing) applied in memory.
    cli: shared command-line flags and error handling for the scripts.
"""

__version__ = "0.1.0"
