"""``acglab latent``: the latent models of the course (autoencoder, VAE, clustering VAE).

    acglab latent train --model gmvae --data digits --out runs/gmvae --epochs 45 --k 10
    acglab latent cluster --checkpoint runs/gmvae/best.pt --data digits --json clusters.json

``DATA`` is ``digits`` (scikit-learn's 1,797 8x8 digits) or a face folder in any layout
``acglab data`` reads. ``cluster`` scores the model's clusters against the labels the images
carry (the digit; real/fake or target identity for faces), beside k-means on the raw pixels and
on the codes of a plain autoencoder trained in the same run.
"""

from __future__ import annotations

from pathlib import Path

#: as :data:`acglab.models.latent.LATENT_MODELS` (kept here so that building the parser does not
#: import torch; a test checks they agree)
LATENT_MODELS = ("ae", "vae", "gmvae")


def register(sub) -> None:
    p = sub.add_parser("latent", help="train latent models (AE, VAE, clustering VAE) and score their clusters")
    cmds = p.add_subparsers(dest="latent_command", metavar="SUBCOMMAND")
    cmds.required = True

    t = cmds.add_parser("train", help="train an autoencoder, a VAE or the clustering VAE (thesis eq. 1.1)")
    t.add_argument("--model", required=True, choices=LATENT_MODELS)
    _data_options(t)
    t.add_argument("--out", required=True, metavar="RUN_DIR", help="folder for checkpoints, log.csv and summary.json")
    t.add_argument("--epochs", type=int, metavar="N", default=30)
    t.add_argument("--k", type=int, metavar="K", default=10, help="clusters of the clustering VAE (default 10)")
    t.add_argument(
        "--latent-dim", type=int, metavar="D", default=None, help="code size (default 10 for digits, 32 for faces)"
    )
    t.add_argument("--beta", type=float, default=1.0, help="weight of the KL terms (default 1)")
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt")
    t.set_defaults(func=handle_train)

    c = cmds.add_parser("cluster", help="score a latent model's clusters against the images' labels")
    c.add_argument("--checkpoint", required=True, metavar="CKPT", help="best.pt or last.pt of `acglab latent train`")
    _data_options(c)
    c.add_argument(
        "--labels", metavar="NAME", help="labelling to score: digit, real/fake or identity (default: the first)"
    )
    c.add_argument("--k", type=int, metavar="K", help="clusters for k-means (default: the model's k, else the labels)")
    c.add_argument("--ae", metavar="CKPT", help="a plain autoencoder for the k-means baseline (default: train one)")
    c.add_argument("--json", metavar="OUT", help="write the report here as JSON")
    c.set_defaults(func=handle_cluster)


def _data_options(p) -> None:
    p.add_argument("--data", required=True, metavar="DATA", help="'digits' or a face folder")
    p.add_argument("--img-size", type=int, default=64, metavar="PX", help="side of the face images (default 64)")
    p.add_argument("--max-images", type=int, metavar="N", help="use N images drawn at random")


def _images(args):
    from acglab.data.arrays import load_image_array

    return load_image_array(args.data, args.img_size, args.max_images, progress=True)


def _config(args):
    from acglab.train.latent import LatentConfig

    latent = args.latent_dim or (10 if args.data == "digits" else 32)
    return LatentConfig(
        model=args.model,
        img_size=args.img_size,
        latent_dim=latent,
        k=args.k,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        beta=args.beta,
        seed=args.seed,
    )


def handle_train(args) -> int:
    from acglab.train.latent import train_latent

    summary = train_latent(
        _config(args), _images(args), args.out, resume=args.resume, config_extra={"data_arg": str(args.data)}
    )
    best = summary["best"]
    print(
        f"{args.model}: {summary['epochs']} epochs, best {best['metric']} {best['value']:.3f} at epoch "
        f"{best['epoch']} -> {Path(args.out) / 'best.pt'}"
    )
    return 0


def handle_cluster(args) -> int:
    from acglab.eval.clustering import cluster_report
    from acglab.models.checkpoint import load_checkpoint
    from acglab.train.latent import LatentConfig, latent_model_from_checkpoint

    model = latent_model_from_checkpoint(args.checkpoint)
    saved = (load_checkpoint(args.checkpoint).get("state") or {}).get("latent_config") or {}
    ae = latent_model_from_checkpoint(args.ae) if args.ae else None
    report = cluster_report(
        model,
        _images(args),
        args.labels,
        args.k,
        ae=ae,
        progress=True,
        train_config=LatentConfig(**saved) if saved else None,
    )
    print(
        f"{report['model']} on {report['n']} images, {report['labelling']} ({report['labels']} labels), k={report['k']}: "
        f"acc {report['acc']:.3f}, NMI {report['nmi']:.3f}; k-means on pixels acc {report['kmeans_pixels']['acc']:.3f}, "
        f"on AE codes acc {report['kmeans_ae']['acc']:.3f}"
    )
    if args.json:
        from acglab.train.runlog import write_json_atomic

        write_json_atomic(args.json, report)
    return 0
