import SluiceCLI

SluiceCommand.runMain()
