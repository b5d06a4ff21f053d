from vigil.cli.entry import main

main()
