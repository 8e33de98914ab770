"""The yardstick of `make bench`'s throughput: a minimal Flask app whose one page runs one SQLAlchemy
ORM query against the same database, started by gunicorn exactly as the real app is (bench/run.py)."""
from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Region(db.Model):
    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    db.init_app(app)

    @app.get("/")
    def index():
        r = db.session.scalar(select(Region).order_by(Region.id).limit(1))
        return f"<!doctype html><title>minimal</title><p>{r.name if r else ''}</p>"

    return app
