"""Hide a secret image inside a cover image; the container is written losslessly (PNG).

Example:
    python image_hide.py secret.jpg cover.jpg -o container.png --key "shared phrase"
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("secret", type=pathlib.Path, help="image to hide")
    parser.add_argument("cover", type=pathlib.Path, help="image to hide it in (sets the container's size)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="container image (lossless: .png, .bmp, .tif, .ppm)")
    cli.add_model_flag(parser, cli.DEFAULT_HIDE_MODEL, "hide network (.keras), or a joint model")
    cli.add_key_flags(parser)
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    from deepsteg import imageio, inference, metrics

    imageio.check_lossless_image_path(imageio.check_output_path(args.output, args.force))
    cli.positive("block_size", args.block_size)
    secret, cover = imageio.read_image(args.secret), imageio.read_image(args.cover)
    if secret.shape != cover.shape:
        print(f"note: secret is {secret.shape[1]}x{secret.shape[0]}, cover is {cover.shape[1]}x{cover.shape[0]}; "
              f"resizing the secret to the cover's size")
        secret = imageio.resize_to(secret, *cover.shape[:2])
    to_hide = secret
    if args.key:
        from deepsteg.cipher import BlockScrambler

        to_hide = BlockScrambler(args.key, args.block_size).scramble(secret)
    container = inference.hide(inference.load_network(args.model, "hide"), to_hide[None], cover[None])[0]
    imageio.write_image(args.output, container, force=args.force)
    print(f"wrote {args.output} ({cover.shape[1]}x{cover.shape[0]}); cover PSNR {metrics.psnr(cover, container):.2f} dB, "
          f"SSIM {metrics.ssim(cover, container):.4f}")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
