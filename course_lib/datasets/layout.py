"""The official CIFAR-10 python layout: archive, folder and file names, class names."""

#: Where the official archive lives, its size in bytes and its MD5.
OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_SIZE = 170498071
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"

ARCHIVE_NAME = "cifar-10-python.tar.gz"
#: The folder the archive unpacks to; it holds the pickled batches.
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
#: The files a usable copy must contain (``readme.html`` is optional).
REQUIRED_FILES = TRAIN_BATCHES + (TEST_BATCH, META_FILE)
OPTIONAL_FILES = ("readme.html",)

#: Class names in label order: ``CLASSES[y]`` names label ``y``.
CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck"]
NUM_CLASSES = len(CLASSES)

#: One image, height x width x channels; a batch row holds it as 3 x 32 x 32 (CHW).
IMAGE_SHAPE = (32, 32, 3)
ROW_LENGTH = 32 * 32 * 3
