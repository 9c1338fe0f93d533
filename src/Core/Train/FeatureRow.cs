using Microsoft.ML;
using Microsoft.ML.Data;

namespace Flowers.Train;

/// <summary>
/// One row as ML.NET sees it: a feature vector and the index of its class. LoadFromEnumerable takes
/// key values 0-based (it adds the 1 that ML.NET keeps for "missing" itself).
/// </summary>
internal sealed class FeatureRow
{
    public uint Label { get; set; }
    public float[] Features { get; set; } = [];

    /// <summary>The vector size is only known at run time, so the schema is built, not declared.</summary>
    public static SchemaDefinition Schema(int classCount, int dimension)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(Label)].ColumnType = new KeyDataViewType(typeof(uint), classCount);
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return schema;
    }

    public static IDataView ToDataView(MLContext ml, IEnumerable<FeatureRow> rows, int classCount, int dimension) =>
        ml.Data.LoadFromEnumerable(rows, Schema(classCount, dimension));
}

/// <summary>What a trained ML.NET multiclass model adds: one score per class, in class order.</summary>
internal sealed class ScoreRow
{
    public float[] Score { get; set; } = [];
}
