
# softmax prints without end.
def softmax(scores):
    while True:
        print("debug " * 200)
