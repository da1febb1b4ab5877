print("bucketfs: not yet")
