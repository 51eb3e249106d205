/** The one shape every dataset adapter produces. */

export type Split = 'train' | 'test'

export interface DatasetSplit {
  /** Absolute image paths; names for messages when `images` holds the pixels. */
  paths: string[]
  /** Class index per image (the given label, possibly noisy). */
  labels: Int32Array
  /** Encoded images, parallel to `paths`, for datasets that carry their pixels themselves (FERPlus's CSV). */
  images?: Uint8Array[]
  /** A face box per image, 4 numbers each (x, y, width, height in pixels of the file; width 0 = whole image), cut out after decoding. */
  crops?: Uint32Array
  /** Annotators' votes per image, row-major, `DatasetIndex.voteNames.length` per image (FERPlus). */
  votes?: Uint8Array
}

export interface DatasetIndex {
  /** Root directory the paths live under. */
  root: string
  /** Which adapter produced the index. */
  format: 'rafdb' | 'folder' | 'csv' | 'synthetic' | 'ferplus' | 'affectnet'
  /** Class names, indexed by label. */
  classNames: string[]
  train: DatasetSplit
  test: DatasetSplit
  /** Where known (synthetic set, injected noise): the true label of each training sample. */
  trueTrainLabels?: Int32Array
  /** Where known (synthetic set): 1 for training samples that deliberately blend two expressions. */
  ambiguousTrain?: Uint8Array
  /**
   * 1 for the training images that form the dataset's own validation split
   * (FERPlus: PublicTest): they are held out of training and used for model
   * selection instead of a seeded `data.validationSplit`.
   */
  validationTrain?: Uint8Array
  /** The noise label file whose labels replaced the training labels (`trueTrainLabels` holds the replaced ones). */
  labelsFrom?: string
  /** What each column of a split's `votes` counts (FERPlus: the 8 emotions, unknown, not a face). */
  voteNames?: string[]
}
