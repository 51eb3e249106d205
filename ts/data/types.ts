/** The one shape every dataset adapter produces. */

export type Split = 'train' | 'test'

export interface DatasetSplit {
  /** Absolute image paths. */
  paths: string[]
  /** Class index per image (the given label, possibly noisy). */
  labels: Int32Array
}

export interface DatasetIndex {
  /** Root directory the paths live under. */
  root: string
  /** Which adapter produced the index. */
  format: 'rafdb' | 'folder' | 'csv' | 'synthetic'
  /** Class names, indexed by label. */
  classNames: string[]
  train: DatasetSplit
  test: DatasetSplit
  /** Where known (synthetic set, injected noise): the true label of each training sample. */
  trueTrainLabels?: Int32Array
  /** Where known (synthetic set): 1 for training samples that deliberately blend two expressions. */
  ambiguousTrain?: Uint8Array
}
