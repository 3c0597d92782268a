"""The click benchmark's baseline: a Flask route that only answers 302."""

from flask import Flask, redirect

app = Flask("bare")


@app.get("/c/<token>")
def click(token: str):
    return redirect(f"https://landing.example.com/?t={token}", code=302)
