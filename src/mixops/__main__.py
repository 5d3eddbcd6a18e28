from mixops.cli.main import main

main()
