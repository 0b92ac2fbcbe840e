
# softmax never returns.
def softmax(scores):
    while True:
        pass
