package tokenizer

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers and enum values of SentencePiece's ModelProto that Sieve reads.
const (
	spFieldPieces     = 1 // ModelProto.pieces
	spFieldTrainer    = 2 // ModelProto.trainer_spec
	spFieldNormalizer = 3 // ModelProto.normalizer_spec

	spPieceText  = 1 // SentencePiece.piece
	spPieceScore = 2 // SentencePiece.score
	spPieceType  = 3 // SentencePiece.type

	spTrainerModelType = 3  // TrainerSpec.model_type
	spTrainerUnkID     = 40 // TrainerSpec.unk_id
	spTrainerBosID     = 41 // TrainerSpec.bos_id
	spTrainerEosID     = 42 // TrainerSpec.eos_id
	spTrainerPadID     = 43 // TrainerSpec.pad_id

	spNormalizerAddDummyPrefix = 3 // NormalizerSpec.add_dummy_prefix

	spModelUnigram = 1
	spModelBPE     = 2
)

// parseSentencePieceModel reads a SentencePiece ModelProto (tokenizer.model).
// Only BPE models are supported.
func parseSentencePieceModel(data []byte) (*Vocab, error) {
	v := &Vocab{Kind: SentencePiece, AddBOS: true, AddSpacePrefix: true}
	modelType := uint64(spModelUnigram)
	unk, bos, eos, pad := int64(0), int64(1), int64(2), int64(-1)
	err := walkProto(data, func(num protowire.Number, typ protowire.Type, val []byte, n uint64) error {
		switch num {
		case spFieldPieces:
			return parsePiece(v, val)
		case spFieldTrainer:
			return walkProto(val, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case spTrainerModelType:
					modelType = n
				case spTrainerUnkID:
					unk = int64(int32(n))
				case spTrainerBosID:
					bos = int64(int32(n))
				case spTrainerEosID:
					eos = int64(int32(n))
				case spTrainerPadID:
					pad = int64(int32(n))
				}
				return nil
			})
		case spFieldNormalizer:
			return walkProto(val, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
				if num == spNormalizerAddDummyPrefix && typ == protowire.VarintType {
					v.AddSpacePrefix = n != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(v.Tokens) == 0 {
		return nil, fmt.Errorf("%w: SentencePiece model without pieces", ErrBadVocab)
	}
	if modelType != spModelBPE {
		name := map[uint64]string{spModelUnigram: "unigram", 3: "word", 4: "char"}[modelType]
		return nil, fmt.Errorf("%w: SentencePiece model type %d (%s); only BPE is supported", ErrUnsupported, modelType, name)
	}
	inRange := func(id int64) int32 {
		if id < 0 || id >= int64(len(v.Tokens)) {
			return -1
		}
		return int32(id)
	}
	v.UNK, v.BOS, v.EOS, v.PAD = inRange(unk), inRange(bos), inRange(eos), inRange(pad)
	return v, nil
}

// parsePiece appends one ModelProto.SentencePiece message to v.
func parsePiece(v *Vocab, msg []byte) error {
	text, score, typ := "", float32(0), TypeNormal
	err := walkProto(msg, func(num protowire.Number, wt protowire.Type, val []byte, n uint64) error {
		switch {
		case num == spPieceText && wt == protowire.BytesType:
			text = string(val)
		case num == spPieceScore && wt == protowire.Fixed32Type:
			score = math.Float32frombits(uint32(n))
		case num == spPieceType && wt == protowire.VarintType:
			typ = TokenType(n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.Tokens = append(v.Tokens, text)
	v.Scores = append(v.Scores, score)
	v.Types = append(v.Types, typ)
	return nil
}

// walkProto calls field for each field of the protobuf message msg, with the
// payload of length-delimited fields in val and the value of varint and
// fixed-size fields in n.
func walkProto(msg []byte, field func(num protowire.Number, typ protowire.Type, val []byte, n uint64) error) error {
	for len(msg) > 0 {
		num, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return fmt.Errorf("%w: protobuf tag: %w", ErrBadVocab, protowire.ParseError(tagLen))
		}
		msg = msg[tagLen:]
		var val []byte
		var n uint64
		var m int
		switch typ {
		case protowire.VarintType:
			n, m = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var x uint32
			x, m = protowire.ConsumeFixed32(msg)
			n = uint64(x)
		case protowire.Fixed64Type:
			n, m = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			val, m = protowire.ConsumeBytes(msg)
		default:
			m = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if m < 0 {
			return fmt.Errorf("%w: protobuf field %d: %w", ErrBadVocab, num, protowire.ParseError(m))
		}
		msg = msg[m:]
		if err := field(num, typ, val, n); err != nil {
			return err
		}
	}
	return nil
}
