from vigil.cli.main import app

app()
