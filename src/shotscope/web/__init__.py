"""The archive's web app: ``shotscope serve DIR`` (see :mod:`shotscope.web.app`)."""

from .app import create_app, serve, serving

__all__ = ["create_app", "serve", "serving"]
