"""Split a trained joint model into the sender's hide network and the receiver's reveal network.

Also writes the joint model without its optimiser state (weights only, for ``eval.py`` and
``train.py --init-from``): the three files of a shipped model's folder.

Example:
    python split_model.py checkpoints/run/steg_model-40-0.0012.keras --out-dir checkpoints --force
"""

from __future__ import annotations

import pathlib
import sys

from deepsteg import cli


def parse_args(argv):
    parser = cli.make_parser(__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=pathlib.Path, help="joint training model (.keras)")
    parser.add_argument("--out-dir", type=pathlib.Path, required=True,
                        help="folder for hide.keras, reveal.keras and steg_model.keras (e.g. checkpoints/default)")
    parser.add_argument("--hide-name", default="hide.keras", help="file name of the hide network")
    parser.add_argument("--reveal-name", default="reveal.keras", help="file name of the reveal network")
    parser.add_argument("--joint-name", default="steg_model.keras", help="file name of the weights-only joint model")
    cli.add_force_flag(parser)
    return parser.parse_args(argv)


def save_model(model, path, force: bool = False):
    """Saves a Keras model to a temporary sibling of ``path`` and places it (:func:`deepsteg.files.place`)."""
    from deepsteg.files import place, sync_file, temporary_sibling

    temporary = temporary_sibling(path)
    try:
        model.save(temporary)
        sync_file(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return place(temporary, path, force)


@cli.run_main
def main(argv):
    args = parse_args(argv)
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise cli.CliError(f"--out-dir {args.out_dir} is a file, not a folder")
    hide_path, reveal_path, joint_path = (args.out_dir / name for name in (args.hide_name, args.reveal_name, args.joint_name))
    for path in (hide_path, reveal_path, joint_path):
        if path.suffix != ".keras":
            raise cli.CliError(f"{path.name}: models are saved in the .keras format; use a .keras name")
        if args.out_dir.is_dir():  # a folder still to be made holds nothing to overwrite
            cli.check_output(path, args.force)
    from deepsteg import files
    from deepsteg.training import load_model
    from models import split_steg_model

    files.check_distinct(inputs=[args.checkpoint], outputs=[hide_path, reveal_path, joint_path])
    joint = load_model(args.checkpoint, compile=False)  # uncompiled: saved without the optimiser's state
    hide_network, reveal_network = split_steg_model(joint)
    with files.new_folder(args.out_dir), files.transaction():  # all three files or none, and no folder left on failure
        save_model(hide_network, hide_path, args.force)
        save_model(reveal_network, reveal_path, args.force)
        save_model(joint, joint_path, args.force)
    print(f"wrote {hide_path} ({hide_network.count_params():,} parameters; secret, cover -> container), "
          f"{reveal_path} ({reveal_network.count_params():,} parameters; container -> secret) and {joint_path} (weights only)")
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
