from sfnlab.cli import main

main()
