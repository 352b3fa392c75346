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
    cli.add_steganography_flags(parser, "hide")
    return parser.parse_args(argv)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    cli.check_steganography_args(args)
    from deepsteg import imageio, inference, metrics
    from deepsteg.record import Record, frame_digest
    from models import model_fingerprint

    cli.check_image_output(args, inputs=[args.secret, args.cover, args.model])
    secret, cover = imageio.read_image(args.secret), imageio.read_image(args.cover)
    metrics.check_ssim_size(*cover.shape[:2], f"the cover {args.cover}")
    if secret.shape != cover.shape:
        print(f"note: secret is {secret.shape[1]}x{secret.shape[0]}, cover is {cover.shape[1]}x{cover.shape[0]}; "
              f"resizing the secret to the cover's size")
        secret = imageio.resize_to(secret, *cover.shape[:2])
    to_hide = secret
    if args.key:
        from deepsteg.cipher import BlockScrambler

        to_hide = BlockScrambler(args.key, args.block_size).scramble(secret)
    hide_network = inference.load_network(args.model, "hide", args.engine, args.precision)
    container = inference.hide(hide_network, to_hide[None], cover[None])[0]
    expected = inference.padded_cover(hide_network, cover[None])[0]
    record = Record(model=model_fingerprint(hide_network), block_size=args.block_size, keyed=bool(args.key),
                    width=cover.shape[1], height=cover.shape[0], digests=[frame_digest(container)])
    is_png = args.output.suffix.lower() == ".png"
    imageio.write_image(args.output, container, force=args.force, text=record.to_json() if is_png else None)
    if container.shape != cover.shape:
        print(f"note: the cover has an odd side: the container is {container.shape[1]}x{container.shape[0]}, one mirrored "
              f"row or column more, and reveals a {cover.shape[1]}x{cover.shape[0]} secret")
    if not is_png:
        print(f"note: only PNG containers carry the record that lets image_reveal.py check them; {args.output.suffix} does not")
    print(f"wrote {args.output} ({container.shape[1]}x{container.shape[0]}); cover PSNR {metrics.psnr(expected, container):.2f} dB, "
          f"SSIM {metrics.ssim(expected, container):.4f}")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
